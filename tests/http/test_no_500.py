"""Bytes that used to reach a 500: a non-UTF-8 admin token, and an absolute-form target at the proxy.

Each is sent as raw bytes on loopback (no client library would send them) and must be a 4xx in
SuperOffice's error shape naming what was wrong.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mockserver import FakeServer, ProxyServer

from ..support import SAVE_PATH


async def exchange(url: str, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send `request` as bytes; return the status and the JSON body."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.mark.parametrize(
    "header",
    [b"Authorization: Bearer \xff", b"Authorization: Bearer s\xc3\x28ekrit", b"Authorization: bearer \xed\xa0\x80"],
)
async def test_an_admin_token_that_is_not_utf8_is_a_401(header: bytes) -> None:
    async with FakeServer(port=0, admin_token="sekrit") as fake:
        status, body = await exchange(
            fake.url, b"GET /_health HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nConnection: close\r\n\r\n"
        )
        assert status == 401
        assert body["Error"] is True
        assert body["Violations"][0]["location"] == "header.Authorization"
        assert body["Violations"][0]["got"].lower() == "another bearer value"
        # the right token still opens the route
        ok, health = await exchange(
            fake.url, b"GET /_health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekrit\r\nConnection: close\r\n\r\n"
        )
        assert ok == 200 and health["status"] == "ok"


async def test_a_query_token_that_is_not_utf8_is_a_401() -> None:
    async with FakeServer(port=0, admin_token="sekrit") as fake:
        status, body = await exchange(
            fake.url, b"GET /_calls?token=%ff%ed%a0%80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert status == 401 and body["ErrorType"] == "SoCredentialsException"


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[FakeServer, ProxyServer]]:
    async with FakeServer(port=0) as upstream, ProxyServer(upstream.url, port=0) as proxy:
        yield upstream, proxy


@pytest.mark.parametrize(
    "target", [b"http://evil.example/x?a=1", b"http://evil.example" + SAVE_PATH.encode(), b"https://other:443/"]
)
async def test_the_proxy_refuses_an_absolute_target_naming_another_host(
    proxy: tuple[FakeServer, ProxyServer], target: bytes
) -> None:
    upstream, proxy_server = proxy
    request = (
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: proxy.local\r\nAuthorization: Basic c2VjcmV0\r\nConnection: close\r\n\r\n"
    )
    status, body = await exchange(proxy_server.url, request)
    assert status == 400
    violation = body["Violations"][0]
    assert violation["location"] == "request target"
    assert "proxy.local" in violation["expected"]
    assert target.decode() in violation["got"]
    assert len(upstream.calls) == 0  # nothing, and no credential, went on to the upstream
    assert proxy_server.calls.last.status == 400  # journaled all the same
    assert proxy_server.calls.last.path == target.decode()


async def test_the_proxy_takes_an_absolute_target_naming_itself_as_its_path(
    proxy: tuple[FakeServer, ProxyServer],
) -> None:
    upstream, proxy_server = proxy
    host = proxy_server.url.removeprefix("http://")
    request = f"GET http://{host}/Cust1{SAVE_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    status, _body = await exchange(proxy_server.url, request)
    assert status == 200  # the fake's description of the call, from the upstream
    assert upstream.calls.last.path == SAVE_PATH
