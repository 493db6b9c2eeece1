"""Stalled uploads cannot starve everyone else of the body budget.

Uploads fill the budget and stall, as a client trickling a byte a minute would. A small save
must still succeed (the budget keeps a reserve for small bodies), and a body falling behind
`min_body_rate` is dropped with a 408, giving its share back. Sockets on loopback only; every
wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import mockserver.http.body
from mockserver import FakeServer
from mockserver.core.config import Settings
from mockserver.http.body import BodyBudget, Hold

from ..support import BASIC, SAVE_PATH, save_body

KiB = 1024
GUARD = 15.0  # seconds: a guard against hangs, not a speed assertion
LARGE = 256 * KiB
BUDGET = 1024 * KiB


def head(length: int) -> bytes:
    return (
        f"POST {SAVE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {BASIC}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), GUARD)
    return int(line.split()[1])


async def stall(url: str, sent: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An upload of LARGE bytes that sends `sent` of them, then nothing more."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head(LARGE) + b"{" + b" " * (sent - 1))
    await writer.drain()
    return reader, writer


async def small_save(url: str) -> int:
    body = save_body(description="")
    assert len(body) < 200
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head(len(body)) + body)
        await writer.drain()
        return await status_of(reader)
    finally:
        writer.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    settings = Settings(port=0, max_body_memory=BUDGET, max_body_size=LARGE, min_body_rate=0)
    async with FakeServer(settings) as server:
        yield server


async def test_a_small_save_succeeds_while_stalled_uploads_fill_the_budget(fake: FakeServer) -> None:
    stalled = []
    try:
        # Four uploads that would fill the budget to within 40 bytes, then stall.
        for _ in range(4):
            stalled.append(await stall(fake.url, LARGE - 10))
        await asyncio.sleep(0.3)  # let the fake read what they sent
        # Large bodies stop short of the reserve: the fourth is refused rather than taking it.
        assert await status_of(stalled[3][0]) == 503
        for _ in range(3):
            assert await small_save(fake.url) == 200
    finally:
        for _reader, writer in stalled:
            writer.close()


def test_large_bodies_leave_the_reserve_to_small_ones() -> None:
    budget = BodyBudget(BUDGET, LARGE)
    big = Hold(budget)
    assert budget.reserve == BUDGET // 16
    while big.take(32 * KiB):
        pass
    assert budget.held == BUDGET - budget.reserve  # large bodies stop at the reserve
    small = Hold(budget)
    assert small.take(90)  # a small body still fits
    small.release()
    big.release()
    assert budget.held == 0


def test_one_body_of_the_largest_size_always_fits() -> None:
    budget = BodyBudget(LARGE, LARGE)
    assert Hold(budget).take(LARGE)


async def test_a_body_behind_the_minimum_rate_is_dropped_with_a_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mockserver.http.body, "BODY_RATE_GRACE", 0.3)
    settings = Settings(port=0, max_body_memory=BUDGET, max_body_size=LARGE, min_body_rate=10 * KiB)
    async with FakeServer(settings) as fake:
        reader, writer = await stall(fake.url, 100)
        try:
            assert await status_of(reader) == 408
            rest = await asyncio.wait_for(reader.read(), GUARD)  # then the connection closes
        finally:
            writer.close()
        assert b'"ErrorType":"TimeoutException"' in rest
        assert b"--min-body-rate" in rest
        record = (await fake.wait_for_calls(1, timeout=GUARD)).last
        assert record.status == 408
        assert record.violations[0].location == "body"
        # its share is given back: stalled uploads are dropped, and large bodies fit again
        assert await small_save(fake.url) == 200
