"""No credential, whatever its shape, reaches an answer, /_calls, the page or the state file.

Two shapes used to: an obs-folded header line (aiohttp's parse error quoted the continuation
line, secret and all) and a cookie without ``=`` (recorded as ``secret=<redacted>``). The
regressions send those over a raw socket; the property sends generated secrets in every header
that carries one, well-formed or not, folded or not, and looks for them everywhere.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import FakeServer, ThreadedFakeServer

from .strategies import budget
from .wire import GIF_1X1_B64, exchange, exchange_sync, get_request, journal_views, request_bytes

BODY = json.dumps({"Type": "PersonImage", "Image": GIF_1X1_B64}).encode()


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
