"""Credentials on a clock, as a state machine: whatever the order of logins, calls and clock moves,
a call is accepted exactly when its credential is alive.

The model: a ticket lives `TICKET_LIFE` seconds after its last accepted call (sliding); an access
token lives `TOKEN_LIFE` seconds after it was issued (no sliding); alive means ``now < expires``.
The fake runs in the core (no sockets) on a frozen clock, so every step is exact.
"""

from __future__ import annotations

import json

import jwt
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mockserver.core.fake import Fake
from mockserver.core.loader import load_contracts
from mockserver.core.online.jwt_keys import TICKET_CLAIM, SigningKey
from mockserver.core.online.login import OAUTH_TOKENS_PATH, SYSTEM_USER_PATH

from ..online_support import APP_TOKEN, CLIENT_ID, START, applications, call, login_body
from ..support import SAVE_CONTRACT
from .strategies import budget

TICKET_LIFE = 21600
TOKEN_LIFE = 3600
CONTRACTS = load_contracts(SAVE_CONTRACT)
KEY = SigningKey()  # one signing key for every example: making one takes a moment
# Steps that land on, just before and just past the lives, and anything between.
STEPS = st.one_of(
    st.sampled_from([1, TOKEN_LIFE - 1, TOKEN_LIFE, TICKET_LIFE // 2, TICKET_LIFE - 1, TICKET_LIFE, TICKET_LIFE + 1]),
    st.integers(min_value=0, max_value=2 * TICKET_LIFE),
)


class CredentialClock(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.fake = Fake(
            contracts=CONTRACTS, installation="online", applications=applications(), clock=START,
            ticket_life_s=TICKET_LIFE, access_token_life_s=TOKEN_LIFE,
        )  # fmt: skip
        self.fake.login.key = KEY
        self.expires: dict[str, float] = {}  # credential -> when the model says it expires
        self.tickets: list[str] = []  # newest last: a client uses its newest, a careless one an older one
        self.tokens: list[str] = []
        self.calls = 0

    @initialize()
    def consent(self) -> None:
        self.refresh_token = self.fake.oauth_consent("Cust12345", CLIENT_ID)["refresh_token"]

    @rule()
    def authenticate(self) -> None:
        journal = self.fake.state.journal
        answer = self.fake.login.system_user(login_body(self.fake), {}, SYSTEM_USER_PATH, "http://x", journal)
        assert answer.body["IsSuccessful"], answer.body
        ticket = str(jwt.decode(answer.body["Token"], options={"verify_signature": False})[TICKET_CLAIM])
        self.expires[ticket] = self.fake.clock.now() + TICKET_LIFE
        self.tickets.append(ticket)

    @rule()
    def refresh(self) -> None:
        params = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": APP_TOKEN}
        params["refresh_token"] = self.refresh_token
        answer = self.fake.login.oauth_tokens(params, {}, OAUTH_TOKENS_PATH, "http://x", self.fake.state.journal)
        assert answer.status == 200, json.dumps(answer.body)
        token = str(answer.body["access_token"])
        self.expires[token] = self.fake.clock.now() + TOKEN_LIFE
        self.tokens.append(token)

    @precondition(lambda self: self.tickets)
    @rule(newest=st.booleans(), pick=st.integers(min_value=0))
    def call_with_ticket(self, newest: bool, pick: int) -> None:
        ticket = self.tickets[-1] if newest else self.tickets[pick % len(self.tickets)]
        alive = self.fake.clock.now() < self.expires[ticket]
        assert call(self.fake, ticket) == (200 if alive else 401)
        if alive:
            self.expires[ticket] = self.fake.clock.now() + TICKET_LIFE  # sliding
        self.calls += 1

    @precondition(lambda self: self.tokens)
    @rule(newest=st.booleans(), pick=st.integers(min_value=0))
    def call_with_token(self, newest: bool, pick: int) -> None:
        token = self.tokens[-1] if newest else self.tokens[pick % len(self.tokens)]
        alive = self.fake.clock.now() < self.expires[token]
        assert call(self.fake, token, scheme="Bearer", app_token=None) == (200 if alive else 401)
        self.calls += 1

    @rule(seconds=STEPS)
    def advance(self, seconds: int) -> None:
        self.fake.clock.advance(seconds)

    @invariant()
    def every_call_is_journaled(self) -> None:
        made = sum(1 for c in self.fake.calls if c.operation is not None)
        assert made == self.calls


TestCredentialClock = CredentialClock.TestCase
TestCredentialClock.settings = settings(budget(30), stateful_step_count=30)
