"""The header steps on their own, run before the shell waits for a body that is still to come.

A request that fails routing, the method, Accept under --strict, the header size rule,
authentication or Content-Type gets the same answer whatever its body holds. `precheck` finds
those requests from the headers alone and answers them through `Fake.process` (so they are
journaled exactly as they would be with their body), leaving the body unread. A request that
passes gets None: its body decides the rest. A body that arrived whole with the headers goes
straight to `Fake.process`, which runs the same steps first (tests/properties/test_precheck.py
shows the answers and records are the same).

The steps mirror the order of `Fake._run` up to the body; a step added there and not here only
means such a request's body is read before it is refused, never a different answer.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.answering.answers import DESCRIBE_METHODS
from mockserver.core.exchange import Outcome, RawRequest
from mockserver.core.fake import Fake
from mockserver.core.headers import auth
from mockserver.core.headers.cache import check_header_sizes
from mockserver.core.headers.negotiation import negotiate, request_media
from mockserver.core.vocabulary.errors import ApiError


def precheck(fake: Fake, raw: RawRequest) -> Outcome | None:
    """Answer (and journal) `raw` now if its body cannot change the answer; otherwise None.

    `raw` is the request without its body: the shell calls this before reading any of it.
    """
    if body_matters(fake, raw):
        return None
    return fake.process(raw)


def body_matters(fake: Fake, raw: RawRequest) -> bool:
    """True when every step before the body passes, so only the body can decide the answer."""
    if raw.body_problem is not None:
        return False
    contract, _prefix = fake.contracts.match(raw.path)
    if contract is None or raw.method in DESCRIBE_METHODS or raw.method != contract.method:
        return False
    _key, facts = fake.header_facts(contract, raw.headers)
    extra: dict[str, Any] = {}
    try:
        if facts is not None:  # this header set passed every step before
            if facts.auth is None:  # a credential store: grants expire, so ask again
                auth.authenticate(raw.headers, fake.settings, fake.credentials, extra)
            return True
        if negotiate(raw.headers, contract, fake.settings.strict).not_acceptable is not None:
            return False
        check_header_sizes(raw.headers)
        auth.authenticate(raw.headers, fake.settings, fake.credentials, extra)
        request_media(raw.headers, contract)
    except ApiError:
        return False
    return True


__all__ = ["body_matters", "precheck"]
