"""Authentication as pure functions: schemes per installation type, credential modes, XSRF, redaction."""

from __future__ import annotations

import base64
import json
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from mockserver import ApiError, ConfigError, Settings
from mockserver.core.headers.auth import REALM, authenticate, fingerprint, redact_headers
from mockserver.core.headers.credentials import CredentialStore, load_store
from mockserver.core.vocabulary.records import AuthInfo

ONSITE = Settings(installation="onsite")
ONLINE = Settings(installation="online")
TICKET = "7T:dGplMA=="
TOKEN = "8A:Cust12345.AXRrCITpPBvQX3UbIohb"
APP = "partner-app-secret"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def hdrs(*pairs: tuple[str, str], **named: str) -> CIMultiDictProxy[str]:
    md: CIMultiDict[str] = CIMultiDict(list(pairs))
    for key, value in named.items():
        md.add(key.replace("_", "-"), value)
    return CIMultiDictProxy(md)


def auth(*pairs: tuple[str, str], settings: Settings = ONSITE, store: Any = None, **named: str) -> AuthInfo:
    return authenticate(hdrs(*pairs, **named), settings, load_store(store), {})


def rejected(*pairs: tuple[str, str], settings: Settings = ONSITE, store: Any = None, **named: str) -> ApiError:
    with pytest.raises(ApiError) as info:
        auth(*pairs, settings=settings, store=store, **named)
    return info.value


STORE = {
    "users": {"tje0": "Tje0"},
    "tickets": {TICKET: "tje0", "7T:b2xk": {"user": "tje0", "expired": True}},
    "tokens": {
        TOKEN: "tje0",
        "8A:Cust12345.old": {"user": "tje0", "expires": "2020-01-01T00:00:00Z"},
        "8A:Cust12345.later": {"expires": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    },
    "app_tokens": {APP: "Partner app"},
}


# ---- schemes per installation type (default mode: any well-formed credential) -----------------


def test_onsite_basic_user_password_records_the_user_name() -> None:
    assert auth(Authorization="Basic dGplMDpUamUw") == AuthInfo("Basic", "tje0", "password")


def test_onsite_basic_with_an_unencoded_ticket() -> None:
    assert auth(Authorization=f"Basic {TICKET}") == AuthInfo("Basic", fingerprint("ticket", TICKET), "ticket")


def test_onsite_soticket_and_bearer() -> None:
    assert auth(Authorization=f"SOTicket {TICKET}") == AuthInfo("SOTicket", fingerprint("ticket", TICKET), "ticket")
    assert auth(Authorization=f"Bearer {TOKEN}") == AuthInfo("Bearer", fingerprint("token", TOKEN), "token")


def test_onsite_soticket_does_not_need_an_app_token() -> None:
    assert auth(Authorization=f"SOTicket {TICKET}").scheme == "SOTicket"


@pytest.mark.parametrize(
    ("value", "scheme"),
    [
        ("basic dGplMDpUamUw", "Basic"),
        ("BASIC dGplMDpUamUw", "Basic"),
        (f"SoTicket {TICKET}", "SOTicket"),
        (f"SOTICKET {TICKET}", "SOTicket"),
        (f"soticket {TICKET}", "SOTicket"),
        (f"bearer {TOKEN}", "Bearer"),
        (f"BEARER   {TOKEN}  ", "Bearer"),
    ],
)
def test_scheme_names_are_case_insensitive(value: str, scheme: str) -> None:
    assert auth(Authorization=value).scheme == scheme


def test_principal_fingerprint_is_short_stable_and_not_the_secret() -> None:
    principal = auth(Authorization=f"Bearer {TOKEN}").principal
    assert principal == fingerprint("token", TOKEN)
    assert principal is not None and principal.startswith("token#") and len(principal) == len("token#") + 8
    assert TOKEN not in principal and "Cust12345" not in principal


@pytest.mark.parametrize("value", ["Basic dGplMDpUamUw", f"Basic {TICKET}", "basic dGplMDpUamUw"])
def test_online_rejects_basic_saying_it_is_not_available(value: str) -> None:
    err = rejected(Authorization=value, settings=ONLINE)
    assert err.status == 401
    assert err.headers == {"WWW-Authenticate": REALM}
    assert "Basic authentication is not available in SuperOffice Online" in err.text
    assert err.violations[0].location == "header.Authorization"


def test_online_soticket_needs_the_app_token() -> None:
    err = rejected(Authorization=f"SOTicket {TICKET}", settings=ONLINE)
    assert err.status == 401 and err.headers == {"WWW-Authenticate": REALM}
    assert err.violations[0].location == "header.SO-AppToken"
    assert "SO-AppToken" in err.text
    assert auth(("Authorization", f"SOTicket {TICKET}"), ("SO-AppToken", APP), settings=ONLINE).scheme == "SOTicket"


def test_online_soticket_checks_the_ticket_before_the_app_token() -> None:
    err = rejected(Authorization="SOTicket nope", settings=ONLINE)
    assert err.violations[0].location == "header.Authorization"


def test_online_soticket_with_an_empty_app_token_is_missing_it() -> None:
    err = rejected(("Authorization", f"SOTicket {TICKET}"), ("SO-AppToken", "  "), settings=ONLINE)
    assert err.violations[0].got == "no SO-AppToken"


def test_online_bearer_needs_no_app_token() -> None:
    assert auth(Authorization=f"Bearer {TOKEN}", settings=ONLINE) == AuthInfo(
        "Bearer", fingerprint("token", TOKEN), "token"
    )


# ---- every 401 reason: status, header, message, violation ------------------------------------


@pytest.mark.parametrize(
    ("value", "got", "message"),
    [
        ("", "an empty Authorization header", "The Authorization header is empty."),
        ("Basic", "the scheme Basic with no credentials", "The Basic Authorization has no credentials."),
        ("bearer   ", "the scheme Bearer with no credentials", "The Bearer Authorization has no credentials."),
        ("Digest abc=1", "the scheme Digest", "The Authorization scheme is not supported here"),
        ("ntlm TlRMTVNTUAAB", "the scheme NTLM", "use Basic base64(user:password)"),
        ("Tje0pass other", "an unknown scheme (not shown: it may be a secret)", "is not supported here"),
        ("8A:Cust12345.secret", "a value without a scheme name", "The Authorization scheme is not supported"),
        ("Basic !!notbase64!!", "Basic credentials that are not valid base64", "not valid base64"),
        ("Basic dGplMA", "Basic credentials that are not valid base64", "not valid base64"),  # padding missing
        ("Basic " + base64.b64encode(b"tje0").decode(), "decoded Basic credentials without a ':'", "no ':'"),
        ("Basic " + base64.b64encode(b":Tje0").decode(), "an empty user name", "empty user name"),
        ("SOTicket abc", "a SOTicket value that is not a 7T: ticket", "are not a ticket"),
        ("SOTicket 7T:", "a SOTicket value that is not a 7T: ticket", "are not a ticket"),
        ("Basic 7T:a b", "a Basic value that is not a 7T: ticket", "are not a ticket"),
        ("Bearer 8A:x y", "a Bearer token containing spaces", "contains spaces"),
    ],
)
def test_each_malformed_credential_is_a_401_naming_the_problem(value: str, got: str, message: str) -> None:
    err = rejected(Authorization=value)
    assert err.status == 401
    assert err.headers == {"WWW-Authenticate": REALM}
    assert err.violations[0].location == "header.Authorization"
    assert err.violations[0].got == got
    assert message in err.text
    body = err.body()
    assert body["Error"] is True and body["ErrorType"] == "SoCredentialsException"
    assert body["Message"] == err.text and body["Violations"][0]["got"] == got


def test_extra_spaces_between_scheme_and_credentials_are_allowed() -> None:
    assert auth(Authorization=f"SOTicket   {TICKET}").principal == fingerprint("ticket", TICKET)


def test_two_authorization_headers_are_a_400() -> None:
    err = rejected(("Authorization", "Basic dGplMDpUamUw"), ("Authorization", f"Bearer {TOKEN}"))
    assert err.status == 400
    assert err.violations[0].got == "2 Authorization headers"
    assert "WWW-Authenticate" not in err.headers


def test_latin1_user_names_decode() -> None:
    value = "Basic " + base64.b64encode("bjørn:pw".encode("latin-1")).decode()
    assert auth(Authorization=value).principal == "bjørn"


# ---- credential-store mode ---------------------------------------------------------------------


def test_store_accepts_listed_user_case_insensitively_and_records_its_spelling() -> None:
    assert auth(Authorization=basic("TJE0", "Tje0"), store=STORE) == AuthInfo("Basic", "tje0", "password")


def test_store_rejects_unknown_user_and_wrong_password() -> None:
    err = rejected(Authorization=basic("bob", "x"), store=STORE)
    assert err.status == 401 and err.text == "Unknown user name 'bob'."
    err = rejected(Authorization=basic("tje0", "tje0"), store=STORE)
    assert err.status == 401 and err.text == "Wrong password for the user 'tje0'."
    assert err.headers == {"WWW-Authenticate": REALM}
    assert "tje0'" in err.violations[0].got and "Tje0" not in json.dumps(err.body())


@pytest.mark.parametrize("scheme", ["SOTicket", "Basic"])
def test_store_ticket_known_unknown_expired(scheme: str) -> None:
    assert auth(Authorization=f"{scheme} {TICKET}", store=STORE) == AuthInfo(scheme, "tje0", "ticket")
    err = rejected(Authorization=f"{scheme} 7T:bm9wZQ==", store=STORE)
    assert err.status == 401 and err.text == "The ticket is not known to this server."
    err = rejected(Authorization=f"{scheme} 7T:b2xk", store=STORE)
    assert err.status == 401 and "expired" in err.text and "expired ticket" in err.violations[0].got


def test_store_token_known_unknown_expired_and_not_yet_expired() -> None:
    assert auth(Authorization=f"Bearer {TOKEN}", store=STORE, settings=ONLINE).principal == "tje0"
    err = rejected(Authorization="Bearer 8A:Cust12345.other", store=STORE)
    assert err.text == "The token is not known to this server."
    err = rejected(Authorization="Bearer 8A:Cust12345.old", store=STORE)
    assert err.text == "The token has expired; log in again to get a new one."
    # A token with no user is named by its fingerprint.
    later = "8A:Cust12345.later"
    assert auth(Authorization=f"Bearer {later}", store=STORE).principal == fingerprint("token", later)


def test_store_online_app_token_must_be_listed_and_names_the_app() -> None:
    extra: dict[str, Any] = {}
    headers = hdrs(("Authorization", f"SOTicket {TICKET}"), ("SO-AppToken", APP))
    assert authenticate(headers, ONLINE, load_store(STORE), extra).principal == "tje0"
    assert extra == {"app": "Partner app"}
    err = rejected(("Authorization", f"SOTicket {TICKET}"), ("SO-AppToken", "other"), settings=ONLINE, store=STORE)
    assert err.status == 401 and err.violations[0].location == "header.SO-AppToken"
    assert err.text == "The SO-AppToken is not known to this server."


def test_store_without_a_section_rejects_that_kind() -> None:
    err = rejected(Authorization=f"Bearer {TOKEN}", store={"users": {"tje0": "Tje0"}})
    assert err.status == 401


# ---- loading the store -------------------------------------------------------------------------

TOML_TEXT = f"""
[users]
tje0 = "Tje0"

[tickets]
"{TICKET}" = "tje0"
"7T:b2xk" = {{ user = "tje0", expired = true }}

[tokens]
"{TOKEN}" = "tje0"
"8A:Cust12345.old" = {{ user = "tje0", expires = 2020-01-01T00:00:00Z }}

[app_tokens]
"{APP}" = "Partner app"
"""


def test_toml_and_json_files_have_the_same_shape(tmp_path: Path) -> None:
    toml_file = tmp_path / "creds.toml"
    toml_file.write_text(TOML_TEXT)
    json_file = tmp_path / "creds.json"
    tokens = {k: v for k, v in STORE["tokens"].items() if "later" not in k}
    json_file.write_text(json.dumps({**STORE, "tokens": tokens}))
    from_toml, from_json = load_store(toml_file), load_store(str(json_file))
    assert from_toml == from_json
    assert from_toml is not None and from_toml.tickets["7T:b2xk"].is_expired()
    assert from_toml.tokens["8A:Cust12345.old"].is_expired()
    assert not from_toml.tokens[TOKEN].is_expired()


def test_store_object_passes_through_and_none_means_any() -> None:
    store = CredentialStore(users={"a": "b"})
    assert load_store(store) is store
    assert load_store(None) is None


def test_app_tokens_and_grants_may_be_plain_lists() -> None:
    store = load_store({"app_tokens": [APP], "tokens": [TOKEN]})
    assert store is not None and APP in store.app_tokens and store.tokens[TOKEN].user is None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"passwords": {}}, "unknown key 'passwords'"),
        ({"users": ["tje0"]}, "users: must be a table/object"),
        ({"users": {"tje0": 5}}, "users.tje0: must be a string password"),
        ({"tickets": {"nope-secret": "tje0"}}, "tickets[1]: a ticket must start with '7T:'"),
        ({"tokens": {"a b-secret": "tje0"}}, "tokens[1]: must be a non-empty string without spaces"),
        ({"tokens": {TOKEN: {"user": "x", "when": 1}}}, "unknown key 'when'"),
        ({"tokens": {TOKEN: {"expired": "yes"}}}, "expired: must be true or false"),
        ({"tokens": {TOKEN: {"expires": "tomorrow"}}}, "must be an ISO 8601 date-time"),
        ({"app_tokens": [""]}, "non-empty strings"),
        ([1, 2], "credentials must be a file path, a mapping or a CredentialStore (got list)"),
    ],
)
def test_bad_store_errors_name_the_key_but_never_a_secret(data: Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_store(data)
    assert fragment in str(info.value)
    assert "secret" not in str(info.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the credential file"):
        load_store(tmp_path / "missing.toml")
    bad = tmp_path / "creds.cfg"
    bad.write_text("users = [")
    with pytest.raises(ConfigError, match=r"not a valid credential file \(TOML: .*; JSON: "):
        load_store(bad)
    with pytest.raises(ConfigError, match="credentials must be a file path"):
        load_store(42)


def test_settings_path_loads_when_the_fake_is_built(tmp_path: Path) -> None:
    from mockserver import Fake

    path = tmp_path / "creds.toml"
    path.write_text(TOML_TEXT)
    assert Fake(credentials=path).credentials == load_store(path)


# ---- XSRF: no Authorization header --------------------------------------------------------------


def test_xsrf_header_equal_to_cookie_is_accepted() -> None:
    info = auth(("X-XSRF-TOKEN", "abc123"), ("Cookie", "ASP.NET_SessionId=s1; XSRF-TOKEN=abc123"))
    assert info == AuthInfo("XSRF", fingerprint("xsrf", "abc123"), "xsrf")
    assert auth(("X-XSRF-TOKEN", "abc123"), ("Cookie", 'XSRF-TOKEN="abc123"'), settings=ONLINE).scheme == "XSRF"


def test_xsrf_cookie_may_be_url_encoded() -> None:
    assert auth(("X-XSRF-TOKEN", "a+b/c="), ("Cookie", "XSRF-TOKEN=a%2Bb%2Fc%3D")).scheme == "XSRF"


def test_xsrf_cookie_in_a_second_cookie_header() -> None:
    assert auth(("X-XSRF-TOKEN", "t"), ("Cookie", "a=1"), ("Cookie", "XSRF-TOKEN=t")).scheme == "XSRF"


@pytest.mark.parametrize(
    ("pairs", "got", "start"),
    [
        ((), "no Authorization and no X-XSRF-TOKEN header", "X-XSRF-TOKEN HTTP header missing."),
        ((("X-XSRF-TOKEN", " "),), "an empty X-XSRF-TOKEN header", "X-XSRF-TOKEN HTTP header missing."),
        ((("X-XSRF-TOKEN", "abc"),), "no XSRF-TOKEN cookie", "X-XSRF-TOKEN HTTP header does not match"),
        (
            (("X-XSRF-TOKEN", "abc"), ("Cookie", "XSRF-TOKEN=xyz")),
            "a value different from the XSRF-TOKEN cookie",
            "X-XSRF-TOKEN HTTP header does not match the XSRF-TOKEN cookie: they differ.",
        ),
        (
            (("X-XSRF-TOKEN", "abc"), ("Cookie", "xsrf-token=abc")),
            "no XSRF-TOKEN cookie",
            "X-XSRF-TOKEN HTTP header does not match",
        ),
    ],
)
@pytest.mark.parametrize("settings", [ONSITE, ONLINE])
def test_xsrf_rejections(pairs: tuple[tuple[str, str], ...], got: str, start: str, settings: Settings) -> None:
    err = rejected(*pairs, settings=settings)
    assert err.status == 401 and err.headers == {"WWW-Authenticate": REALM}
    assert err.text.startswith(start)
    # The header that was sent (and wrong) is named; with neither, the missing Authorization is.
    assert err.violations[0].location == ("header.X-XSRF-TOKEN" if pairs else "header.Authorization")
    assert err.violations[0].got == got
    assert "abc" not in err.text and "xyz" not in json.dumps(err.body())


def test_two_xsrf_headers_are_a_400() -> None:
    err = rejected(("X-XSRF-TOKEN", "a"), ("X-XSRF-TOKEN", "a"), ("Cookie", "XSRF-TOKEN=a"))
    assert err.status == 400


def test_authorization_wins_over_xsrf() -> None:
    info = auth(("Authorization", "Basic dGplMDpUamUw"), ("X-XSRF-TOKEN", "a"), ("Cookie", "XSRF-TOKEN=b"))
    assert info.scheme == "Basic"


# ---- redaction ---------------------------------------------------------------------------------


def test_redact_headers_hides_every_secret_but_keeps_schemes_and_cookie_names() -> None:
    headers = hdrs(
        ("Authorization", "Basic dGplMDpUamUw"),
        ("Proxy-Authorization", "Bearer proxysecret"),
        ("so-apptoken", APP),
        ("X-XSRF-TOKEN", "xsrfsecret"),
        ("Cookie", "XSRF-TOKEN=xsrfsecret; .AspNetCore.Cookies=sessionsecret"),
        ("SO-Language", "en"),
    )
    redacted = redact_headers(headers)
    assert redacted == (
        ("Authorization", "Basic <redacted>"),
        ("Proxy-Authorization", "Bearer <redacted>"),
        ("so-apptoken", "<redacted>"),
        ("X-XSRF-TOKEN", "<redacted>"),
        ("Cookie", "XSRF-TOKEN=<redacted>; .AspNetCore.Cookies=<redacted>"),
        ("SO-Language", "en"),
    )


@pytest.mark.parametrize("value", ["8A:Cust.secret", "Basic", "%%%% secret", "  ", "Tje0pass other"])
def test_redaction_never_shows_a_value_that_may_be_a_bare_secret(value: str) -> None:
    assert redact_headers(hdrs(("Authorization", value))) == (("Authorization", "<redacted>"),)


def test_duplicate_headers_are_each_redacted() -> None:
    headers = hdrs(("Authorization", "Basic dGplMDpUamUw"), ("Authorization", "SOTicket 7T:x"))
    assert redact_headers(headers) == (("Authorization", "Basic <redacted>"), ("Authorization", "SOTicket <redacted>"))


def test_cli_reports_a_bad_credential_file_without_starting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.tools.cli import main

    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"tickets": {"not-a-ticket-secret": "tje0"}}))
    assert main(["serve", "--port", "0", "--credentials", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: tickets[1]: a ticket must start with '7T:'" in err
    assert "not-a-ticket-secret" not in err


# ---- properties: any header value gives an AuthInfo or a 400/401, never the secret back ----------

# The fixed start keeps a secret from matching our own message text by coincidence.
_SECRET = st.text(alphabet=string.ascii_letters + string.digits + "+/=:._-!@#$%", max_size=40).map(lambda s: "Zq9" + s)


@given(
    scheme=st.sampled_from(["Basic", "basic", "SOTicket", "Bearer", "Digest", "Foo", ""]),
    secret=_SECRET,
    installation=st.sampled_from(["onsite", "online"]),
)
def test_any_credential_is_answered_and_never_echoed(scheme: str, secret: str, installation: str) -> None:
    value = f"{scheme} {secret}".strip()
    settings = Settings(installation=installation)
    try:
        info = authenticate(hdrs(("Authorization", value)), settings, None, {})
    except ApiError as err:
        assert err.status in {400, 401}
        assert secret not in json.dumps(err.body()) and secret not in json.dumps(err.headers)
    else:
        assert info.scheme in {"Basic", "SOTicket", "Bearer"}
        assert info.principal and secret not in info.principal
    assert all(secret not in v for _, v in redact_headers(hdrs(("Authorization", value))))


@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=60))
def test_arbitrary_xsrf_headers_and_cookies_never_crash(token: str, cookie: str, raw_cookie: str) -> None:
    pairs = [("X-XSRF-TOKEN", token), ("Cookie", f"XSRF-TOKEN={cookie}"), ("Cookie", raw_cookie)]
    try:
        info = authenticate(hdrs(*pairs), ONSITE, None, {})
    except ApiError as err:
        assert err.status == 401
    else:
        assert info.scheme == "XSRF" and token.strip()
