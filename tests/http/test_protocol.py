"""Requests aiohttp refuses before any handler runs are still journaled and SuperOffice-shaped."""

from __future__ import annotations

import asyncio
import json

import pytest

from mockserver import FakeServer

from ..support import BASIC, SAVE_PATH, save_body

GUARD = 5.0


async def exchange(fake: FakeServer, raw: bytes) -> tuple[int, str, bytes]:
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), GUARD)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    ctype = next((h.split(":", 1)[1].strip() for h in header_lines if h.lower().startswith("content-type:")), "")
    return int(status_line.split()[1]), ctype, body


@pytest.fixture
async def fake() -> FakeServer:
    async with FakeServer(port=0) as server:
        yield server


async def test_an_unknown_method_name_is_journaled_and_answered_in_the_error_shape(fake: FakeServer) -> None:
    status, ctype, body = await exchange(fake, f"FOO {SAVE_PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    error = json.loads(body)
    assert status == 400 and ctype == "application/json; charset=utf-8"
    assert error["Error"] is True and error["ErrorType"] == "ArgumentException"
    assert error["Violations"][0]["location"] == "request"
    assert "BadHttpMethod" in error["Violations"][0]["got"]
    record = fake.calls.last
    assert (record.seq, record.status, record.method, record.path) == (1, 400, "UNKNOWN", "(unparsed)")
    assert fake.next_id == 1


async def test_a_refused_authorization_line_never_shows_the_credential(fake: FakeServer) -> None:
    secret = "dGplMDpUamUw"
    raw = f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {secret}\x00\r\n\r\n".encode()
    status, _, body = await exchange(fake, raw)
    assert status == 400
    assert secret.encode() not in body
    record_text = json.dumps(fake.calls.last.to_json())
    assert secret not in record_text
    assert "may hold credentials" in fake.calls.last.violations[0].got


async def test_a_crash_inside_the_fake_is_journaled_as_a_500_in_the_error_shape(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(raw: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fake, "process", explode)
    head = f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {BASIC}\r\nContent-Type: application/json\r\n"
    body = save_body()
    status, _, answer = await exchange(fake, f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    error = json.loads(answer)
    assert status == 500 and error["ErrorType"] == "Exception"
    assert "bug in the fake" in error["Message"]
    record = fake.calls.last
    assert (record.status, record.method, record.path) == (500, "POST", SAVE_PATH)
    assert [v.location for v in record.violations] == ["server"]
