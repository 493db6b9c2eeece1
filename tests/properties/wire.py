"""Exact bytes on a socket: requests no HTTP client would build (raw header bytes, folded lines).

`exchange` (asyncio streams) for async tests against a `FakeServer`; `exchange_sync` (a plain
socket) for hypothesis tests against a `ThreadedFakeServer`. Both send ``Connection: close``
requests and read the whole answer.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from mockserver import FakeServer

from .strategies import SAVE_PATH

GUARD = 15.0  # seconds: a guard against hangs, not a speed assertion
BASIC = b"Basic dGplMDpUamUw"
# A real 1x1 GIF (header, palette, image descriptor, LZW data, trailer).
GIF_1X1_B64 = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


def request_bytes(
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    method: bytes = b"POST",
    path: bytes = SAVE_PATH.encode(),
    ctype: bytes | None = b"application/json",
    auth: bytes | None = BASIC,
) -> bytes:
    """One HTTP/1.1 request, headers exactly as given (after Host, Content-Type and Authorization)."""
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    if ctype is not None:
        lines.append(b"Content-Type: " + ctype)
    if auth is not None:
        lines.append(b"Authorization: " + auth)
    lines += [name + b": " + value for name, value in headers or []]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def split_answer(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


async def exchange(fake: FakeServer, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), GUARD)
    finally:
        writer.close()
    return split_answer(data)


def exchange_sync(host: str, port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((host, port), timeout=GUARD) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return split_answer(b"".join(chunks))


def get_request(path: str, accept: str = "application/json") -> bytes:
    return request_bytes(b"", [(b"Accept", accept.encode())], method=b"GET", path=path.encode(), ctype=None, auth=None)


async def journal_views(fake: FakeServer, seq: int) -> dict[str, Any]:
    """GET /_calls (JSON), /_calls/{seq} and the HTML page: each must answer 200; returns them."""
    views: dict[str, Any] = {}
    for name, path, accept in (
        ("calls", "/_calls", "application/json"),
        ("one", f"/_calls/{seq}", "application/json"),
        ("page", "/_calls", "text/html"),
    ):
        status, _, body = await exchange(fake, get_request(path, accept))
        assert status == 200, (path, accept, body[:300])
        views[name] = body.decode("utf-8") if name == "page" else json.loads(body)
    return views


def journal_views_sync(host: str, port: int, seq: int) -> dict[str, Any]:
    views: dict[str, Any] = {}
    for name, path, accept in (
        ("calls", "/_calls", "application/json"),
        ("one", f"/_calls/{seq}", "application/json"),
        ("page", "/_calls", "text/html"),
    ):
        status, _, body = exchange_sync(host, port, get_request(path, accept))
        assert status == 200, (path, accept, body[:300])
        views[name] = body.decode("utf-8") if name == "page" else json.loads(body)
    return views
