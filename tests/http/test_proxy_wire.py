"""The proxy on the wire: what it forwards and returns unchanged, what it drops, its limit, TLS,
an upstream that does not answer, and secrets that never reach the journal, the drift or the log."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from mockserver import FakeServer, ProxyServer

from ..proxy_support import start_app, wrong_app
from ..support import BASIC, SAVE_PATH, save_body

JSON = {"Content-Type": "application/json"}
VALID = {**JSON, "Authorization": BASIC}
NO_AUTO = ("Accept", "Accept-Encoding", "User-Agent")  # headers aiohttp's client adds unless told not to


@pytest.fixture
async def wrong() -> AsyncIterator[str]:
    runner, url = await start_app(wrong_app())
    yield url
    await runner.cleanup()


async def raw_exchange(url: str, request: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """Send `request` as bytes; return the status line, the headers in order and the body."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines)], body


def echoed(headers: list[tuple[str, str]]) -> dict[str, object]:
    return json.loads(next(v for k, v in headers if k == "X-Echo"))


async def test_a_request_goes_on_unchanged_but_for_hop_by_hop_headers_and_host(wrong: str) -> None:
    body = save_body()
    request = (
        f"POST /Cust99{SAVE_PATH}?%24select=a%2Cb&x=%7e%20y HTTP/1.1\r\n"
        "Host: proxy.local\r\n"
        "Connection: close, X-Private\r\n"
        "X-Private: only for the proxy\r\n"
        "Keep-Alive: timeout=5\r\n"
        "Proxy-Authorization: Basic cHJveHk6cHJveHk=\r\n"
        "TE: trailers\r\n"
        "Upgrade: h2c\r\n"
        f"Authorization: {BASIC}\r\n"
        "X-Repeated: one\r\n"
        "X-Repeated: two\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    async with ProxyServer(f"{wrong}/echo", port=0) as proxy:
        status, headers, answer = await raw_exchange(proxy.url, request)
    assert status == "HTTP/1.1 200 OK" and answer == b"33"
    seen = echoed(headers)
    assert seen["method"] == "POST"
    assert seen["raw_path"] == f"/echo{SAVE_PATH}?%24select=a%2Cb&x=%7e%20y"
    host = wrong.removeprefix("http://")
    assert seen["headers"] == [
        ["Host", host],
        ["Authorization", BASIC],
        ["X-Repeated", "one"],
        ["X-Repeated", "two"],
        ["Content-Type", "application/json"],
        ["Content-Length", str(len(body))],
    ]
    assert seen["body"] == body.decode("latin-1")
    assert not seen["chunked"]


async def test_a_chunked_body_goes_on_chunked_and_a_bodiless_get_without_one(wrong: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = save_body()
        yield body[:10]
        yield body[10:]

    async with ProxyServer(f"{wrong}/echo", port=0) as proxy, ClientSession() as http:
        async with http.post(proxy.api_url, data=chunks(), headers=VALID, skip_auto_headers=NO_AUTO) as resp:
            chunked = json.loads(resp.headers["X-Echo"])
        async with http.get(proxy.api_url, skip_auto_headers=NO_AUTO) as resp:
            plain = json.loads(resp.headers["X-Echo"])
    assert chunked["chunked"] and chunked["body"] == save_body().decode()
    assert [k for k, _v in chunked["headers"]] == ["Host", "Content-Type", "Authorization", "Transfer-Encoding"]
    assert plain["headers"] == [["Host", wrong.removeprefix("http://")]] and plain["size"] == 0
    assert proxy.calls.first.extra["drift"] == []


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_past_the_limit_is_answered_413_here_and_never_forwarded(chunked: bool) -> None:
    body = save_body(image=b"\x89PNG\r\n\x1a\n" + bytes(4000))

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    async with (
        FakeServer(port=0) as fake,
        ProxyServer(fake.url, port=0, max_body_size=1024) as proxy,
        ClientSession() as http,
        http.post(proxy.api_url, data=chunks() if chunked else body, headers=VALID) as resp,
    ):
        answer = await resp.json()
    assert resp.status == 413 and answer["ErrorType"] == "RequestEntityTooLargeException"
    assert len(fake.calls) == 0
    record = proxy.calls.last
    assert (record.status, record.extra["upstream"], record.extra.get("drift")) == (413, {"forwarded": False}, None)
    assert proxy.drift.summary()["exchanges"] == 0


async def test_a_compressed_answer_is_passed_on_compressed_and_checked_unpacked(wrong: str) -> None:
    async with (
        ProxyServer(f"{wrong}/gzipped", port=0) as proxy,
        ClientSession(auto_decompress=False) as http,
        http.post(proxy.api_url, data=save_body(), headers=VALID) as resp,
    ):
        body = await resp.read()
    assert resp.headers["Content-Encoding"] == "gzip" and body == gzip.compress(b"33")
    assert proxy.calls.last.blob_id == 33 and proxy.calls.last.extra["drift"] == []


async def test_an_answer_without_content_type_reaches_the_client_without_one() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n33")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with ProxyServer(f"http://127.0.0.1:{port}", port=0) as proxy:
            _status, headers, body = await raw_exchange(
                proxy.url,
                f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {BASIC}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(save_body())}\r\n\r\n".encode()
                + save_body(),
            )
    finally:
        server.close()
        await server.wait_closed()
    names = [k.lower() for k, _v in headers]
    assert body == b"33" and "content-type" not in names and "date" not in names and "server" not in names
    assert [d["kind"] for d in proxy.calls.last.extra["drift"]] == ["media_type"]
    assert proxy.calls.last.extra["drift"][0]["got"] == "no Content-Type"


async def test_cookies_the_upstream_sets_are_passed_to_the_client_but_never_sent_back_by_the_proxy(wrong: str) -> None:
    async with ProxyServer(f"{wrong}/set_cookie", port=0) as proxy, ClientSession() as http:
        for _ in range(2):
            async with http.post(proxy.api_url, data=save_body(), headers=VALID) as resp:
                cookie, seen = resp.headers["Set-Cookie"], json.loads(resp.headers["X-Echo"])
            http.cookie_jar.clear()  # the client keeps none either: any Cookie would be the proxy's
    assert cookie.startswith("ASP.NET_SessionId=abc123")
    assert "Cookie" not in dict(seen["headers"])


@pytest.mark.parametrize("fault", ["closed port", "drop", "truncate"])
async def test_an_upstream_that_gives_no_whole_answer_is_a_502_and_no_answer_drift(fault: str) -> None:
    async with FakeServer(port=0) as fake:
        if fault == "closed port":
            upstream = fake.url
            await fake.close()
        else:
            upstream = fake.url
            fake.inject(fault)
        async with (
            ProxyServer(upstream, port=0) as proxy,
            ClientSession() as http,
            http.post(proxy.api_url, data=save_body(), headers=VALID) as resp,
        ):
            answer = await resp.json()
    assert resp.status == 502 and answer["Error"] is True
    assert answer["Message"] == f"The proxy got no answer from {upstream}."
    record = proxy.calls.last
    assert record.status == 502 and record.extra["upstream"]["error"]
    assert [d["kind"] for d in record.extra["drift"]] == ["no_answer"]
    assert proxy.drift.summary()["kinds"]["no_answer"]["count"] == 1


SECRETS = (
    "dGplMDpUamUw",
    "Tje0",
    "7T:c2VjcmV0LXRpY2tldA==",
    "partner-app-secret",
    "xsrf-secret",
    "sess-secret",
    "8A:Cust12345.AXRrCITpPBvQX3UbIohbAXRrCITpPBvQX3UbIohb",  # longer than a preview: cut inside
)


async def test_secrets_reach_the_upstream_but_never_the_journal_the_drift_or_the_log(
    wrong: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls = [
        {"Authorization": f"Basic {SECRETS[0]}"},
        {"Authorization": f"SOTicket {SECRETS[2]}", "SO-AppToken": SECRETS[3]},
        {"X-XSRF-TOKEN": SECRETS[4], "Cookie": f"XSRF-TOKEN={SECRETS[4]}; session={SECRETS[5]}"},
        {"Authorization": f"Bearer {SECRETS[6]}"},
    ]
    caplog.set_level(logging.INFO, logger="mockserver")
    echoed = []
    async with ProxyServer(f"{wrong}/echo_secret", port=0, log_calls=True) as proxy, ClientSession() as http:
        for headers in calls:
            async with http.post(proxy.api_url, data=save_body(), headers={**headers, **JSON}) as resp:
                assert resp.status == 401
                echoed.append(await resp.text())
        async with http.get(proxy.url + "/_calls") as resp:
            journal = await resp.text()
        async with http.get(proxy.url + "/_drift") as resp:
            drift = await resp.text()
        async with http.get(proxy.url + "/_calls", headers={"Accept": "text/html"}) as resp:
            page = await resp.text()
    assert echoed[1] == f"{SECRETS[2]} is not valid here"  # the client gets the upstream's own words
    recorded = journal + drift + page + caplog.text + repr(list(proxy.calls))
    assert 'Basic realm=\\"<redacted>\\"' in journal  # the challenge is kept, its echo of the secret is not
    assert "a text/plain body '<redacted>…'" in journal  # the cut inside the long token
    for secret in SECRETS:
        assert secret not in recorded, secret
        assert secret[:8] not in recorded, secret


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A CA and a certificate it signed for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the TLS tests need the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    (folder / "san.txt").write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=mockserver-test-CA",
        "req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.txt",
    ):
        subprocess.run(["openssl", *command.split()], cwd=folder, check=True, capture_output=True, timeout=60)
    yield folder


@pytest.fixture
async def tls_upstream(certificates: Path) -> AsyncIterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    runner = web.AppRunner(wrong_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}/accepts_anything"
    await runner.cleanup()


@pytest.mark.parametrize(
    ("options", "status"),
    [({}, 502), ({"ca_file": "ca.pem"}, 200), ({"insecure": True}, 200)],
    ids=["verified by default", "a private CA", "insecure"],
)
async def test_tls_to_the_upstream_is_verified_unless_told_otherwise(
    tls_upstream: str, certificates: Path, options: dict[str, object], status: int
) -> None:
    if "ca_file" in options:
        options = {"ca_file": certificates / "ca.pem"}
    async with (
        ProxyServer(tls_upstream, port=0, **options) as proxy,
        ClientSession() as http,
        http.post(proxy.api_url, data=save_body(), headers=VALID) as resp,
    ):
        await resp.read()
    assert resp.status == status
    drift = proxy.calls.last.extra["drift"]
    if status == 502:
        assert drift[0]["kind"] == "no_answer" and "certificate verify failed" in drift[0]["got"]
    else:
        assert drift == []


async def test_the_proxy_answers_100_continue_itself_and_a_head_keeps_the_upstreams_length(wrong: str) -> None:
    body = save_body()
    async with ProxyServer(f"{wrong}/echo", port=0) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\n"
            f"Authorization: {BASIC}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10) == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    head, _, got = answer.partition(b"\r\n\r\n")
    seen = echoed([(k, v.strip()) for k, _, v in (line.partition(":") for line in head.decode().split("\r\n")[1:])])
    assert got == b"33" and "Expect" not in dict(seen["headers"])
    async with FakeServer(port=0) as fake, ProxyServer(fake.url, port=0) as proxy:
        direct = await raw_exchange(
            fake.url, f"HEAD {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        proxied = await raw_exchange(
            proxy.url, f"HEAD {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
    assert proxied[0] == direct[0] == "HTTP/1.1 200 OK" and proxied[2] == b""
    assert dict(proxied[1])["Content-Length"] == dict(direct[1])["Content-Length"] != "0"


async def test_an_upstream_slower_than_the_timeout_is_a_502_naming_the_timeout() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with (
            ProxyServer(f"http://127.0.0.1:{port}", port=0, timeout=0.3) as proxy,
            ClientSession() as http,
            http.post(proxy.api_url, data=save_body(), headers=VALID) as resp,
        ):
            answer = await resp.json()
    finally:
        server.close()
    assert resp.status == 502
    assert answer["Violations"][0]["got"] == "TimeoutError: no whole answer within 0.3 s"
    assert proxy.calls.last.extra["drift"][0]["got"] == "TimeoutError: no whole answer within 0.3 s"
