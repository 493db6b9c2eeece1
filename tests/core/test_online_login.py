"""The login service in the core: the system user flow, tickets with a sliding life, OAuth refresh, the clock."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mockserver.core.config import Settings
from mockserver.core.exchange import RawRequest
from mockserver.core.fake import Fake
from mockserver.core.online.applications import load_applications
from mockserver.core.online.clock import Clock
from mockserver.core.online.clock_control import apply_clock_body, clock_from_setting
from mockserver.core.online.jwt_keys import CTX_CLAIM, TICKET_CLAIM, WEBAPI_URL_CLAIM, serial_of
from mockserver.core.online.login import OAUTH_TOKENS_PATH, SYSTEM_USER_PATH, LoginAnswer
from mockserver.core.online.system_user import CONTEXT_NAME
from mockserver.core.tenants import TENANT_NAME
from mockserver.core.vocabulary.errors import ApiError, ConfigError

from ..online_support import (
    APP_TOKEN,
    CLIENT_ID,
    SAVE_PATH,
    START,
    applications,
    call,
    key_pair,
    login_body,
    online_fake,
    sign,
)

BASE = "http://127.0.0.1:8080"


def system_user(fake: Fake, body: bytes) -> LoginAnswer:
    return fake.login.system_user(body, {}, SYSTEM_USER_PATH, BASE, fake.state.journal)


def ticket_of(answer: LoginAnswer) -> str:
    assert answer.body["IsSuccessful"] is True, answer.body
    claims = jwt.decode(answer.body["Token"], options={"verify_signature": False})
    ticket = claims[TICKET_CLAIM]
    assert isinstance(ticket, str) and ticket.startswith("7T:")
    return ticket


def refresh(fake: Fake, **params: str) -> LoginAnswer:
    return fake.login.oauth_tokens(params, {}, OAUTH_TOKENS_PATH, BASE, fake.state.journal)


def test_the_login_service_reads_tenant_names_as_the_tenants_do() -> None:
    assert CONTEXT_NAME.pattern == TENANT_NAME.pattern


# ---- the clock ---------------------------------------------------------------------------------


def test_the_clock_setting() -> None:
    assert not clock_from_setting(None).frozen
    assert clock_from_setting("frozen").frozen
    at = clock_from_setting("2026-12-07T10:00:00Z")
    assert at.frozen and at.utcnow().isoformat() == "2026-12-07T10:00:00+00:00"
    for bad in ("soon", "2026-12-07T10:00:00", ""):
        with pytest.raises(ConfigError, match="clock must be 'frozen' or an ISO 8601 instant"):
            Settings(clock=bad)


def test_every_fake_has_a_clock_its_isolated_tenants_share() -> None:
    fake = Fake(tenants="isolated", clock=START)
    tenant = fake.tenant("Cust1")
    assert tenant.clock is fake.clock and tenant.login is fake.login
    fake.clock.advance(hours=1)
    assert tenant.clock.utcnow().hour == 11


def test_clock_bodies_move_the_clock() -> None:
    clock = Clock()
    apply_clock_body(clock, {"frozen": True})
    assert clock.frozen
    apply_clock_body(clock, {"set": START, "advance_s": 21600})
    assert clock.utcnow().isoformat() == "2026-12-07T16:00:00+00:00"
    apply_clock_body(clock, {"frozen": False})
    assert not clock.frozen


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ([], "body"),
        ({}, "body"),
        ({"advance": 1}, "body.advance"),
        ({"advance_s": -1}, "body.advance_s"),
        ({"advance_s": "6h"}, "body.advance_s"),
        ({"advance_s": True}, "body.advance_s"),
        ({"advance_s": 1e300}, "body.advance_s"),
        ({"set": "tomorrow"}, "body.set"),
        ({"set": "2026-12-07T10:00:00"}, "body.set"),
        ({"set": 5}, "body.set"),
        ({"frozen": "yes"}, "body.frozen"),
    ],
)
def test_a_clock_body_it_cannot_read_is_a_400_naming_it(body: Any, location: str) -> None:
    clock = Clock(frozen=True, start=0)
    with pytest.raises(ApiError) as caught:
        apply_clock_body(clock, body)
    assert caught.value.status == 400
    assert caught.value.violations[0].location == location
    assert clock.now() == 0  # nothing moved


# ---- applications ----------------------------------------------------------------------------


def test_applications_from_toml(tmp_path: Path) -> None:
    pem = key_pair()[1]
    path = tmp_path / "apps.toml"
    path.write_text(f'[[application]]\napplication_token = "tok"\nclient_id = "cid"\npublic_key = """\n{pem}"""\n')
    apps = load_applications(path)
    app = apps.find("tok")
    assert app is not None and app.public_key is not None and app.name == "application 1"
    assert apps.by_client_id("cid") is app


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"apps": []}, "unknown key 'apps'"),
        ({"application": {}}, "array of tables"),
        ({"application": [{}]}, r"application\[1\].application_token: must be a non-empty string"),
        ({"application": [{"application_token": "t", "public_key": "nope"}]}, "not a PEM public key"),
        ({"application": [{"application_token": "t", "colour": "red"}]}, "unknown key 'colour'"),
        ({"application": [{"application_token": "t"}, {"application_token": "t"}]}, "already used"),
    ],
)
def test_applications_errors_name_the_table_never_the_token(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_applications(data)
    assert "secret-app-token" not in str(caught.value)


def test_an_unreadable_applications_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the applications file"):
        Fake(applications=tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[application]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Fake(applications=bad)


# ---- the system user flow --------------------------------------------------------------------


def test_a_signed_system_user_token_gets_a_jwt_holding_a_ticket() -> None:
    fake = online_fake()
    answer = system_user(fake, login_body(fake))
    assert answer.status == 200 and answer.body["ErrorMessage"] == ""
    jwks = fake.login.key.jwks()
    key = jwt.PyJWK(jwks["keys"][0]).key
    serial = serial_of("Cust12345")
    claims = jwt.decode(
        answer.body["Token"],
        key,
        algorithms=["RS256"],
        audience=f"spn:{serial}",
        issuer="SuperOffice AS",
    )
    assert claims[CTX_CLAIM] == "Cust12345"
    assert claims[WEBAPI_URL_CLAIM] == f"{BASE}/Cust12345/api/"
    assert claims["exp"] - claims["iat"] == 21600
    record = fake.calls.last
    assert record.path == SYSTEM_USER_PATH and record.status == 200 and not record.violations
    assert record.request["ApplicationToken"] == "<redacted>"
    assert record.extra["credential"].startswith("ticket#")
    assert record.extra["expires"] == "2026-12-07T16:00:00Z"
    assert fake.assert_authenticated(times=1) == 1


def refused(answer: LoginAnswer) -> str:
    assert answer.status == 200
    assert answer.body["IsSuccessful"] is False and answer.body["Token"] is None
    message = answer.body["ErrorMessage"]
    assert isinstance(message, str)
    return message


@pytest.mark.parametrize(
    ("signed", "message"),
    [
        ("no-dots-at-all", "must be three parts"),
        ("token.20261207.c2ln", "timestamp must be UTC yyyyMMddHHmm"),
        ("token.202613071000.c2ln", "is not a date and time"),
        ("token.202612071000.not base64!", "signature is not base64"),
        (".202612071000.c2ln", "must be three parts"),
    ],
)
def test_a_malformed_signed_token(signed: str, message: str) -> None:
    fake = online_fake()
    assert message in refused(system_user(fake, login_body(fake, signed=signed)))
    record = fake.calls.last
    assert record.violations[0].location == "body.SignedSystemToken"
    assert signed not in json.dumps(record.to_json())


def test_a_bad_signature_a_stale_timestamp_and_an_unknown_application() -> None:
    fake = online_fake()
    now = fake.clock.utcnow()
    other = sign(now, key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    assert "bad signature" in refused(system_user(fake, login_body(fake, signed=other)))
    stale = refused(system_user(fake, login_body(fake, signed=sign(now - timedelta(minutes=6)))))
    assert "stale" in stale and "2026-12-07T09:54Z" in stale and "window 300 seconds" in stale
    future = refused(system_user(fake, login_body(fake, signed=sign(now + timedelta(minutes=6)))))
    assert "far in the future" in future
    assert "ApplicationToken is not known" in refused(system_user(fake, login_body(fake, app_token="nope")))
    assert APP_TOKEN not in json.dumps([c.to_json() for c in fake.calls])
    assert len(fake.calls) == 4 and all(c.violations for c in fake.calls)
    with pytest.raises(AssertionError, match="never authenticated"):
        fake.assert_authenticated()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"ApplicationToken": "x"}', "SignedSystemToken is missing"),
        (
            b'{"SignedSystemToken": "a.b.c", "ApplicationToken": "x", '
            b'"ContextIdentifier": "../etc", "ReturnTokenType": "JWT"}',
            "not a tenant name",
        ),
        (
            b'{"SignedSystemToken": "a.b.c", "ApplicationToken": "x", '
            b'"ContextIdentifier": "Cust1", "ReturnTokenType": "Saml"}',
            "ask for JWT",
        ),
    ],
)
def test_a_body_it_cannot_read(body: bytes, message: str) -> None:
    fake = online_fake()
    assert message in refused(system_user(fake, body))
    assert fake.calls.last.violations


def test_without_a_configured_key_the_signature_is_not_checked_but_its_shape_and_time_are() -> None:
    fake = online_fake(applications=applications(with_key=False))
    assert ticket_of(system_user(fake, login_body(fake, signed=f"{sign(fake.clock.utcnow())[:-8]}AAAAAAA=")))
    bare = Fake(clock=START)  # no applications at all: any application token
    assert ticket_of(system_user(bare, login_body(bare, app_token="anything")))
    stale = sign(bare.clock.utcnow() - timedelta(hours=1))
    assert "stale" in refused(system_user(bare, login_body(bare, signed=stale)))


def test_the_window_is_a_setting() -> None:
    fake = online_fake(signed_token_window_s=3600)
    assert ticket_of(system_user(fake, login_body(fake, signed=sign(fake.clock.utcnow() - timedelta(minutes=50)))))


# ---- tickets -------------------------------------------------------------------------------------


def test_a_ticket_slides_with_each_accepted_call_and_expires_six_hours_after_the_last() -> None:
    fake = online_fake()
    ticket = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, ticket) == 200
    fake.clock.advance(hours=5, minutes=59)
    assert call(fake, ticket) == 200  # slid: six hours from here
    fake.clock.advance(hours=5, minutes=59)
    assert call(fake, ticket) == 200
    fake.clock.advance(hours=6)
    assert call(fake, ticket) == 401
    record = fake.calls.last
    assert record.header("WWW-Authenticate") is None  # request headers only; the answer's are checked over HTTP
    got = record.violations[0].got
    assert "issued 2026-12-07T10:00:00Z" in got and "last used 2026-12-07T21:58:00Z" in got
    assert "expires 2026-12-08T03:58:00Z" in got and ticket not in got


def test_the_same_header_set_is_checked_again_after_the_clock_moves() -> None:
    """The header cache keeps what a header set concluded; an issued ticket's life is read every call."""
    fake = online_fake()
    ticket = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, ticket) == 200
    assert len(fake.header_cache) == 1
    fake.clock.advance(hours=6)
    assert call(fake, ticket) == 401


def test_the_ticket_life_is_a_setting() -> None:
    fake = online_fake(ticket_life_s=60)
    ticket = ticket_of(system_user(fake, login_body(fake)))
    fake.clock.advance(seconds=59)
    assert call(fake, ticket) == 200
    fake.clock.advance(seconds=60)
    assert call(fake, ticket) == 401


def test_an_issued_ticket_wants_its_applications_token() -> None:
    fake = online_fake()
    ticket = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, ticket, app_token="another-app") == 401
    assert fake.calls.last.violations[0].location == "header.SO-AppToken"
    assert fake.calls.last.violations[0].got == "another application's token"
    assert call(fake, ticket, app_token=None) == 401


def test_tickets_never_issued_pass_by_default_and_are_refused_when_asked() -> None:
    permissive = online_fake()
    assert call(permissive, "7T:made-up") == 200
    strict = online_fake(issued_only=True)
    assert call(strict, "7T:made-up") == 401
    assert "never issued" in strict.calls.last.violations[0].got
    assert call(strict, "8A:Cust12345.made-up", scheme="Bearer", app_token=None) == 401
    ticket = ticket_of(system_user(strict, login_body(strict)))
    assert call(strict, ticket) == 200


def test_reset_forgets_issued_credentials() -> None:
    fake = online_fake(issued_only=True)
    ticket = ticket_of(system_user(fake, login_body(fake)))
    fake.reset()
    assert call(fake, ticket) == 401


# ---- OAuth --------------------------------------------------------------------------------------


def test_an_access_token_expires_after_expires_in_and_a_refresh_gives_a_new_one() -> None:
    fake = online_fake()
    pair = fake.oauth_consent("Cust12345", CLIENT_ID)
    assert set(pair) == {"token_type", "access_token", "expires_in", "refresh_token", "id_token"}
    assert pair["access_token"].startswith("8A:Cust12345.") and pair["expires_in"] == 3600
    assert call(fake, pair["access_token"], scheme="Bearer", app_token=None) == 200
    fake.clock.advance(seconds=3599)
    assert call(fake, pair["access_token"], scheme="Bearer", app_token=None) == 200  # no sliding
    fake.clock.advance(seconds=1)
    assert call(fake, pair["access_token"], scheme="Bearer", app_token=None) == 401
    answer = refresh(
        fake,
        grant_type="refresh_token",
        client_id=CLIENT_ID,
        client_secret=APP_TOKEN,
        refresh_token=pair["refresh_token"],
    )
    assert answer.status == 200 and answer.body["refresh_token"] == pair["refresh_token"]
    assert answer.body["access_token"] != pair["access_token"]
    assert call(fake, answer.body["access_token"], scheme="Bearer", app_token=None) == 200
    fake.assert_reauthenticated_after_401()
    fake.assert_no_expired_credential_reused()
    assert fake.assert_authenticated(times=1) == 1  # the consent is not the client's login
    assert pair["refresh_token"] not in json.dumps([c.to_json() for c in fake.calls])


def test_an_expired_access_token_can_get_403_instead() -> None:
    fake = online_fake(expired_token_status=403, access_token_life_s=20 * 60)
    pair = fake.oauth_consent("Cust12345", CLIENT_ID)
    fake.clock.advance(minutes=20)
    assert call(fake, pair["access_token"], scheme="Bearer", app_token=None) == 403
    with pytest.raises(ConfigError, match="expired_token_status must be 401 or 403"):
        Settings(expired_token_status=500)


@pytest.mark.parametrize(
    ("params", "error", "status"),
    [
        ({}, "invalid_request", 400),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type", 400),
        ({"grant_type": "refresh_token", "client_id": CLIENT_ID}, "invalid_request", 400),
        ({"refresh_token": "never-issued"}, "invalid_grant", 400),
        ({"client_id": "someone-else"}, "invalid_client", 401),
        ({"client_secret": "wrong"}, "invalid_client", 401),
    ],
)
def test_refresh_errors_are_the_oauth_error_json(params: dict[str, str], error: str, status: int) -> None:
    fake = online_fake()
    pair = fake.oauth_consent("Cust12345", CLIENT_ID)
    full = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": APP_TOKEN,
        "refresh_token": pair["refresh_token"],
    }
    sent = {**full, **params} if len(params) == 1 and "grant_type" not in params else params
    answer = refresh(fake, **sent)
    assert answer.status == status and answer.body["error"] == error
    assert set(answer.body) == {"error", "error_description"}
    assert fake.calls.last.violations and pair["refresh_token"] not in json.dumps(fake.calls.last.to_json())


def test_consent_checks_the_client() -> None:
    fake = online_fake()
    with pytest.raises(ConfigError, match="not the client_id of a configured application"):
        fake.oauth_consent("Cust12345", "unknown")
    with pytest.raises(ConfigError, match="client_secret is not the application token"):
        fake.oauth_consent("Cust12345", CLIENT_ID, "wrong")
    with pytest.raises(ConfigError, match="not a tenant name"):
        fake.oauth_consent("a/b", CLIENT_ID)
    bare = Fake(clock=START)
    assert bare.oauth_consent("Cust1", "any-client")["access_token"].startswith("8A:Cust1.")


# ---- assertions --------------------------------------------------------------------------------


def test_reauthenticating_without_a_401_fails_naming_the_calls() -> None:
    fake = online_fake()
    system_user(fake, login_body(fake))
    system_user(fake, login_body(fake))
    with pytest.raises(
        AssertionError, match=r"authenticated again at #2 POST /Login/api/PartnerSystemUser/Authenticate"
    ):
        fake.assert_reauthenticated_after_401()
    with pytest.raises(AssertionError, match=r"authenticate 1 time\(s\); it authenticated 2 time\(s\)"):
        fake.assert_authenticated(times=1)


def test_going_on_after_a_401_without_logging_in_fails() -> None:
    fake = online_fake()
    ticket = ticket_of(system_user(fake, login_body(fake)))
    fake.clock.advance(hours=7)
    assert call(fake, ticket) == 401
    with pytest.raises(AssertionError, match=r"never authenticated again after #2 POST"):
        fake.assert_reauthenticated_after_401()
    assert call(fake, ticket) == 401
    with pytest.raises(AssertionError, match=r"called again at #3 POST .* with an expired credential"):
        fake.assert_reauthenticated_after_401()
    with pytest.raises(AssertionError, match=r"sent the expired ticket#[0-9a-f]{8} 2 times"):
        fake.assert_no_expired_credential_reused()


def test_reauthenticating_once_after_the_401_passes() -> None:
    fake = online_fake()
    ticket = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, ticket) == 200
    fake.clock.advance(hours=6)
    assert call(fake, ticket) == 401
    fresh = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, fresh) == 200
    fake.assert_reauthenticated_after_401()
    fake.assert_no_expired_credential_reused()
    assert fake.assert_authenticated(times=2) == 2


def test_no_401_at_all_is_not_proof_of_reauthenticating() -> None:
    fake = online_fake()
    ticket = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, ticket) == 200
    with pytest.raises(AssertionError, match="No call was refused for an expired credential"):
        fake.assert_reauthenticated_after_401()


# ---- a credential store beside the login service -----------------------------------------------

STORE = {"users": {"tje0": "Tje0"}, "tickets": {"7T:dGplMA==": "tje0"}, "app_tokens": {APP_TOKEN: "Test app"}}


def test_with_a_credential_store_a_ticket_issued_here_is_accepted_and_one_from_nowhere_refused() -> None:
    fake = online_fake(credentials=STORE)
    ticket = ticket_of(system_user(fake, login_body(fake)))
    assert call(fake, ticket) == 200  # issued by the login service: no store is asked
    assert call(fake, ticket) == 200  # the header cache keeps no store's verdict for it either
    assert call(fake, "7T:dGplMA==") == 200  # the store's own ticket
    assert call(fake, "7T:bm93aGVyZQ==") == 401  # neither issued here nor in the store
    fake.clock.advance(hours=7)
    assert call(fake, ticket) == 401  # the issued ticket's life is over, store or not


def test_with_a_credential_store_the_precheck_leaves_an_issued_ticket_to_its_body() -> None:
    fake = online_fake(credentials=STORE)
    ticket = ticket_of(system_user(fake, login_body(fake)))
    headers = {"Content-Type": "application/json", "Authorization": f"SOTicket {ticket}", "SO-AppToken": APP_TOKEN}
    head = RawRequest.build("POST", SAVE_PATH, headers=headers)
    assert fake.precheck(head) is None  # the body decides: the header steps pass for a ticket issued here
    refused = fake.precheck(
        RawRequest.build("POST", SAVE_PATH, headers={**headers, "Authorization": "SOTicket 7T:eA=="})
    )
    assert refused is not None and refused.status == 401
