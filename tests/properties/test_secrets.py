"""No credential, whatever its shape, reaches an answer, /_calls, the page or the state file.

Two shapes used to: an obs-folded header line (aiohttp's parse error quoted the continuation
line, secret and all) and a cookie without ``=`` (recorded as ``secret=<redacted>``). The
regressions send those over a raw socket; the property sends generated secrets in every header
that carries one, well-formed or not, folded or not, and looks for them everywhere.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import jwt
import pytest
import requests
from aiohttp import ClientSession
from hypothesis import given
from hypothesis import strategies as st

from mockserver import FakeServer, ProxyServer, ThreadedFakeServer
from mockserver.core.headers.redaction import scrub
from mockserver.core.online.jwt_keys import TICKET_CLAIM

from ..online_support import APP_TOKEN, CLIENT_ID, applications, login_body, private_pem, sign
from ..proxy_support import start_app, wrong_app
from .strategies import budget
from .wire import GIF_1X1_B64, exchange, exchange_sync, get_request, journal_views, request_bytes

BODY = json.dumps({"Type": "PersonImage", "Image": GIF_1X1_B64}).encode()
LOGIN_PATH = "/Login/api/PartnerSystemUser/Authenticate"
TOKENS_PATH = "/login/common/oauth/tokens"


def served_texts(views: dict[str, object]) -> list[str]:
    return [json.dumps(views["calls"]), json.dumps(views["one"]), str(views["page"])]


def state_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


# ---- the two shapes from the issue -----------------------------------------------------------

FOLDED_SECRET = "dGplMDpQV19TRUNSRVQ="  # base64 of tje0:PW_SECRET


async def test_regression_a_folded_authorization_line_is_never_echoed(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    raw = request_bytes(BODY, auth=b"Basic\r\n " + FOLDED_SECRET.encode())
    async with FakeServer(port=0, state=state) as fake:
        status, _, answer = await exchange(fake, raw)
        assert status == 400
        error = json.loads(answer)
        assert error["Violations"][0]["got"].startswith("BadHttpMessage: Unexpected whitespace after header value")
        texts = [answer.decode(), *served_texts(await journal_views(fake, 1))]
    for text in texts:
        assert FOLDED_SECRET not in text and "PW_SECRET" not in text
        assert "dGplMDpQV19TRUNSRVQ" not in text  # not even the part before the padding
    assert FOLDED_SECRET.encode() not in state_bytes(state)


@pytest.mark.parametrize(
    ("cookie", "recorded"),
    [
        ("s3cr3t-session-value", "<redacted>"),
        ("c2Vzc2lvbi1zZWNyZXQ=", "<redacted>"),  # a bare base64 secret: '=' but nothing after it
        ("theme=dark; s3cr3t-session-value", "theme=<redacted>; <redacted>"),
        ("odd name=s3cr3t-session-value", "<redacted>"),
    ],
)
async def test_regression_a_cookie_of_any_shape_is_redacted(tmp_path: Path, cookie: str, recorded: str) -> None:
    state = tmp_path / "state.db"
    async with FakeServer(port=0, state=state) as fake:
        status, _, answer = await exchange(fake, request_bytes(BODY, [(b"Cookie", cookie.encode())]))
        assert status == 200
        assert fake.calls.last.header("Cookie") == recorded
        texts = [answer.decode(), *served_texts(await journal_views(fake, 1))]
    for secret in ("s3cr3t-session-value", "c2Vzc2lvbi1zZWNyZXQ"):
        assert all(secret not in text for text in texts)
        assert secret.encode() not in state_bytes(state)


# ---- any secret, in any header that carries one --------------------------------------------

# A marker keeps a generated secret from matching text that is on the page anyway.
secrets = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."), min_size=6).map(
    lambda s: "Zq9" + s
)
schemes = st.sampled_from(["Basic", "Bearer", "SOTicket", "Digest", "Basic 7T:", "basic", "Token", "", "X-Unknown"])


@st.composite
def secret_headers(draw: st.DrawFn) -> tuple[str, list[tuple[bytes, bytes]], bytes | None]:
    """(the secret, extra headers, the Authorization value) in one of the shapes clients send."""
    secret = draw(secrets)
    shape = draw(
        st.sampled_from(
            ["auth", "auth-b64", "auth-folded", "cookie-bare", "cookie-pair", "cookie-padded", "apptoken", "xsrf"]
        )
    )
    auth: bytes | None = b"Basic dGplMDpUamUw"
    headers: list[tuple[bytes, bytes]] = []
    if shape == "auth":
        scheme = draw(schemes)
        auth = (f"{scheme} {secret}" if scheme and not scheme.endswith(":") else f"{scheme}{secret}").encode()
    elif shape == "auth-b64":
        auth = b"Basic " + base64.b64encode(f"user:{secret}".encode())
    elif shape == "auth-folded":
        auth = draw(schemes).encode() + draw(st.sampled_from([b"\r\n ", b"\r\n\t", b" \r\n  "])) + secret.encode()
    elif shape == "cookie-bare":
        headers.append((b"Cookie", secret.encode()))
    elif shape == "cookie-pair":
        name = draw(st.sampled_from(["session", "XSRF-TOKEN", ".AspNet"]))
        headers.append((b"Cookie", f"lang=en; {name}={secret}".encode()))
    elif shape == "cookie-padded":
        headers.append((b"Cookie", secret.encode() + b"=="))
    elif shape == "apptoken":
        headers.append((b"SO-AppToken", secret.encode()))
    else:
        auth = None
        headers += [(b"X-XSRF-TOKEN", secret.encode()), (b"Cookie", f"XSRF-TOKEN={draw(secrets)}".encode())]
    if draw(st.booleans()):  # the same secret folded into a second line of its own header
        name, value = headers[-1] if headers else (b"SO-AppToken", secret.encode())
        headers = [*headers[:-1], (name, value + b"\r\n " + secret.encode())]
    return secret, headers, auth


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedFakeServer, Path]]:
    state = tmp_path_factory.mktemp("secrets") / "state.db"
    credentials = {"users": {"user": "x"}, "app_tokens": {"known-app": "An app"}}
    with ThreadedFakeServer(port=0, state=state, journal_limit=0, credentials=credentials) as fake:
        yield fake, state


@budget(80)
@given(case=secret_headers())
def test_no_generated_secret_reaches_an_answer_the_journal_the_page_or_the_state_file(
    kept: tuple[ThreadedFakeServer, Path], case: tuple[str, list[tuple[bytes, bytes]], bytes | None]
) -> None:
    fake, state = kept
    secret, headers, auth = case
    status, _, answer = exchange_sync(fake.host, fake.port, request_bytes(BODY, headers, auth=auth))
    assert status in {200, 400, 401}, answer[:300]
    seq = fake.calls.last.seq
    texts = [answer.decode("utf-8")]
    for path, accept in (
        ("/_calls", "application/json"),
        (f"/_calls/{seq}", "application/json"),
        ("/_calls", "text/html"),
    ):
        got, _, body = exchange_sync(fake.host, fake.port, get_request(path, accept))
        assert got == 200
        texts.append(body.decode("utf-8"))
    for text in texts:
        assert secret not in text
    assert secret.encode() not in state_bytes(state)


# ---- credentials in the query, Cookie2, and a secret echoed in another encoding -------------

QUERY_SECRETS = {
    "ticket": "7T:Zq9QueryTicket",
    "token": "Zq9QueryToken",
    "password": "Zq9QueryPassword",
    "client_secret": "Zq9ClientSecret",
    "refresh_token": "Zq9RefreshToken",
    "SignedSystemToken": "Zq9SignedSystem",
}


async def test_regression_credentials_in_the_query_and_cookie2_are_redacted(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    query = "&".join(f"{name}={value}" for name, value in QUERY_SECRETS.items()) + "&$select=Zq9Kept"
    raw = request_bytes(BODY, [(b"Cookie2", b"$Version=1; Zq9CookieTwo")]).replace(
        b"SaveImageStream HTTP/1.1", f"SaveImageStream?{query} HTTP/1.1".encode()
    )
    async with FakeServer(port=0, state=state, log_calls=True) as fake:
        status, _, answer = await exchange(fake, raw)
        assert status == 200, answer
        record = fake.calls.last
        texts = [answer.decode(), *served_texts(await journal_views(fake, 1))]
    assert dict(record.query) == {**dict.fromkeys(QUERY_SECRETS, "<redacted>"), "$select": "Zq9Kept"}
    assert record.header("Cookie2") == "$Version=<redacted>; <redacted>"
    for secret in [*QUERY_SECRETS.values(), "Zq9CookieTwo"]:
        assert all(secret not in text for text in texts), secret
        assert secret.encode() not in state_bytes(state)


query_names = st.sampled_from(
    ["ticket", "Ticket", "token", "access_token", "password", "pwd", "client_secret", "api-key", "X-XSRF-TOKEN"]
)


@budget(60)
@given(name=query_names, secret=secrets)
def test_no_generated_secret_in_a_credential_query_parameter_reaches_the_journal(
    kept: tuple[ThreadedFakeServer, Path], name: str, secret: str
) -> None:
    fake, state = kept
    raw = request_bytes(BODY).replace(b"SaveImageStream HTTP/1.1", f"SaveImageStream?{name}={secret} HTTP/1.1".encode())
    status, _, answer = exchange_sync(fake.host, fake.port, raw)
    assert status in {200, 401}, answer[:300]  # the module's credential store knows other users
    seq = fake.calls.last.seq
    assert fake.calls.last.query == ((name, "<redacted>"),)
    texts = [answer.decode("utf-8")]
    for path, accept in ((f"/_calls/{seq}", "application/json"), ("/_calls", "text/html")):
        got, _, body = exchange_sync(fake.host, fake.port, get_request(path, accept))
        assert got == 200
        texts.append(body.decode("utf-8"))
    assert all(secret not in text for text in texts)
    assert secret.encode() not in state_bytes(state)


@budget(60)
@given(secret=secrets, form=st.sampled_from(["base64", "base64url", "lower", "upper", "url"]))
def test_every_encoding_of_a_known_secret_is_scrubbed(secret: str, form: str) -> None:
    echoed = {
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        "lower": secret.lower(),
        "upper": secret.upper(),
        "url": quote(secret, safe=""),
    }[form]
    scrubbed = scrub(f'Basic realm="{echoed}"', [secret])
    assert scrubbed == 'Basic realm="<redacted>"'


async def test_an_upstream_echoing_credentials_encoded_shows_none_in_the_journal() -> None:
    runner, url = await start_app(wrong_app())
    ticket, token, password = "7T:Zq9EchoTicket", "Zq9EchoAppToken", "Zq9EchoPassword"
    basic = "Basic " + base64.b64encode(f"ann:{password}".encode()).decode()
    try:
        async with ProxyServer(f"{url}/echo_encoded", port=0) as proxy, ClientSession() as http:
            headers = {"Content-Type": "application/json", "Authorization": basic, "SO-AppToken": token}
            async with http.post(f"{proxy.api_url}?ticket={quote(ticket)}", data=BODY, headers=headers) as resp:
                assert resp.status == 401
            async with http.get(proxy.url + "/_calls") as resp:
                journal = await resp.text()
    finally:
        await runner.cleanup()
    kept = json.loads(journal)["calls"][-1]["extra"]["upstream"]["headers"]
    assert {"WWW-Authenticate", "Location", "Retry-After"} <= set(kept)  # the headers are kept, scrubbed
    credentials = basic.partition(" ")[2]
    for secret in (ticket, token, password, credentials):
        b64 = base64.b64encode(secret.encode()).decode()
        for form in (secret, secret.lower(), secret.upper(), quote(secret, safe=""), b64):
            assert form not in journal, form
    assert base64.urlsafe_b64encode(token.encode()).decode() not in journal


# ---- the login service's secrets: private keys, tickets, tokens, signed tokens -----------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def online(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedFakeServer, Path, _Lines]]:
    state = tmp_path_factory.mktemp("online-secrets") / "state.db"
    handler = _Lines()
    logger = logging.getLogger("mockserver")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with ThreadedFakeServer(
            port=0,
            state=state,
            journal_limit=0,
            installation="online",
            applications=applications(),
            log_calls=True,
            ticket_life_s=3600,
        ) as fake:
            yield fake, state, handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


LOGIN_STEPS = st.sampled_from(
    ["login", "login-bad-signature", "login-stale", "login-malformed", "login-unknown-app", "call", "consent",
     "refresh", "refresh-never-issued", "bearer", "advance"]
)  # fmt: skip


@budget(25)
@given(steps=st.lists(LOGIN_STEPS, max_size=8).map(lambda more: ["login", *more]))
def test_no_key_ticket_or_token_reaches_the_journal_the_page_the_logs_or_the_state_file(
    online: tuple[ThreadedFakeServer, Path, _Lines], steps: list[str]
) -> None:
    fake, state, logs = online
    url = fake.url
    now = fake.clock.utcnow
    secrets_seen = [APP_TOKEN, private_pem().splitlines()[1]]  # a line of the private key itself
    ticket, pair = None, None
    refusals: list[str] = []
    for step in steps:
        if step.startswith("login"):
            signed = sign(now())
            if step == "login-bad-signature":
                signed = signed[:-12] + "AAAAAAAAAAA="
            elif step == "login-stale":
                signed = sign(now() - timedelta(hours=2))
            elif step == "login-malformed":
                signed = signed.replace(".", "!", 1)
            app = "Zq9-unknown-app-token" if step == "login-unknown-app" else APP_TOKEN
            secrets_seen += [signed, signed.rsplit(".", 1)[-1], app]
            answer = requests.post(
                url + LOGIN_PATH, data=login_body(fake, signed=signed, app_token=app), timeout=10
            ).json()
            if answer["IsSuccessful"]:
                secrets_seen.append(answer["Token"])
                ticket = jwt.decode(answer["Token"], options={"verify_signature": False})[TICKET_CLAIM]
                secrets_seen.append(ticket)
            else:
                refusals.append(json.dumps(answer))
        elif step == "call" and ticket is not None:
            headers = {"Authorization": f"SOTicket {ticket}", "SO-AppToken": APP_TOKEN}
            answer = requests.post(
                fake.api_url, data=BODY, headers={**headers, "Content-Type": "application/json"}, timeout=10
            )
            refusals.append(answer.text) if answer.status_code != 200 else None
        elif step == "consent":
            pair = fake.oauth_consent("Cust12345", CLIENT_ID)
            secrets_seen += [pair["access_token"], pair["refresh_token"], pair["id_token"]]
        elif step.startswith("refresh") and pair is not None:
            token = "Zq9-never-issued-refresh" if step == "refresh-never-issued" else pair["refresh_token"]
            secrets_seen.append(token)
            query = {
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "client_secret": APP_TOKEN,
                "refresh_token": token,
            }
            answer = requests.post(url + TOKENS_PATH, params=query, timeout=10)
            if answer.status_code == 200:
                secrets_seen += [answer.json()["access_token"], answer.json()["id_token"]]
            else:
                refusals.append(answer.text)
        elif step == "bearer" and pair is not None:
            bearer = {"Authorization": f"Bearer {pair['access_token']}", "Content-Type": "application/json"}
            answer = requests.post(fake.api_url, data=BODY, headers=bearer, timeout=10)
            refusals.append(answer.text) if answer.status_code != 200 else None
        elif step == "advance":
            fake.clock.advance(hours=1)
    assert ticket is not None and logs.lines  # the first step logs in, and that is logged
    seq = fake.calls.last.seq
    texts = [*refusals, *logs.lines]
    views = [("/_calls", "application/json"), (f"/_calls/{seq}", "application/json"), ("/_calls", "text/html")]
    views += [("/_credentials", "application/json"), ("/_health", "application/json")]
    for path, accept in views:
        texts.append(requests.get(url + path, headers={"Accept": accept}, timeout=10).text)
    stored = state_bytes(state)
    for secret in secrets_seen:
        assert all(secret not in text for text in texts), secret[:12]
        assert secret.encode() not in stored
