"""Slow clients cannot take the fake from everyone else: header deadline, idle timeout, a connection cap.

Slowloris-style clients are replayed on loopback: connections that send a request's head a few
bytes at a time and never finish. Each loop is bounded in count and each wait in time; "a normal
client still gets its answer" is checked with generous guards, never a speed assertion.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mockserver import FakeServer

from ..support import BASIC, SAVE_PATH

GUARD = 15.0  # seconds: a guard against hangs, not a speed assertion
HEALTH = b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


async def connect(fake: FakeServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", fake.port)


async def health(fake: FakeServer) -> dict[str, Any]:
    """A well-behaved client: the whole request at once, the whole answer read."""
    reader, writer = await connect(fake)
    try:
        writer.write(HEALTH)
        data = await asyncio.wait_for(reader.read(), GUARD)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    answer: dict[str, Any] = json.loads(body)
    return answer


async def slowloris(fake: FakeServer, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """`count` connections, each having sent the start of a request's head and nothing more."""
    conns = []
    for _ in range(count):
        reader, writer = await connect(fake)
        writer.write(b"POST " + SAVE_PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a")
        conns.append((reader, writer))
    return conns


async def test_a_head_trickling_in_is_cut_at_the_deadline_with_a_408() -> None:
    async with FakeServer(port=0, header_timeout=1) as fake:
        reader, writer = await connect(fake)
        writer.write(b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow")
        answer = asyncio.ensure_future(reader.read())  # everything until the fake hangs up
        try:
            for _ in range(50):  # a byte every 0.1 s: never a whole head; bounded to 5 s
                if answer.done():
                    break
                writer.write(b"w")
                await asyncio.sleep(0.1)
            data = await asyncio.wait_for(answer, GUARD)
        finally:
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        error = json.loads(body)
        assert error["ErrorType"] == "TimeoutException"
        assert "--header-timeout" in error["Violations"][0]["expected"]
        assert (await health(fake))["connections"]["slow_heads_cut"] == 1
        assert len(fake.calls) == 0  # no request was read: nothing to journal


async def test_each_request_on_a_kept_alive_connection_has_its_own_deadline() -> None:
    """Older than the deadline is no fault: a head is due within it of its own first byte."""
    keep = b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    async with FakeServer(port=0, header_timeout=1, idle_timeout=30) as fake:
        reader, writer = await connect(fake)
        try:
            for _ in range(3):  # 3.6 s of one connection, each request whole: none is cut
                writer.write(keep)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GUARD)
                assert head.startswith(b"HTTP/1.1 200"), head
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                await asyncio.wait_for(reader.readexactly(length), GUARD)
                await asyncio.sleep(1.2)
            writer.write(b"GET /_health HTTP/1.1\r\nX-Slow")  # then one trickles: cut 1 s after its first byte
            started = asyncio.get_running_loop().time()
            answer = asyncio.ensure_future(reader.read())
            for _ in range(50):  # bounded to 5 s
                if answer.done():
                    break
                writer.write(b"w")
                await asyncio.sleep(0.1)
            data = await asyncio.wait_for(answer, GUARD)
            waited = asyncio.get_running_loop().time() - started
        finally:
            writer.close()
        assert data.startswith(b"HTTP/1.1 408")
        assert waited >= 0.9  # the deadline runs from this head's first byte, not from the connection's start
        assert (await health(fake))["connections"]["slow_heads_cut"] == 1


async def test_slowloris_connections_past_the_cap_do_not_keep_a_normal_client_out() -> None:
    cap = 20
    async with FakeServer(port=0, header_timeout=60, max_connections=cap) as fake:
        conns = await slowloris(fake, 100)
        try:
            for _ in range(5):
                seen = await health(fake)
                assert seen["connections"]["open"] <= cap
            assert seen["connections"]["max"] == cap
            assert seen["connections"]["evicted"] >= 100 - cap
            # The evicted ones were told why, in SuperOffice's shape.
            data = await asyncio.wait_for(conns[0][0].read(), GUARD)
            assert data.startswith(b"HTTP/1.1 408") and b'"Error":true' in data
        finally:
            for _reader, writer in conns:
                writer.close()


async def test_when_every_connection_is_busy_with_a_request_one_more_is_refused_with_a_503() -> None:
    async with FakeServer(port=0, max_connections=2, min_body_rate=0) as fake:
        busy = []
        for _ in range(2):  # whole heads, bodies still to come: busy with a request
            reader, writer = await connect(fake)
            writer.write(
                f"POST {SAVE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {BASIC}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
            )
            busy.append((reader, writer))
        await asyncio.sleep(0.2)
        try:
            reader, writer = await connect(fake)
            data = await asyncio.wait_for(reader.read(), GUARD)
            writer.close()
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503")
            assert b"Retry-After: 1" in head
            assert "--max-connections" in json.loads(body)["Violations"][0]["expected"]
        finally:
            for _reader, w in busy:
                w.close()


async def test_at_the_cap_an_idle_keep_alive_connection_makes_room_for_a_new_client() -> None:
    async with FakeServer(port=0, max_connections=2) as fake:
        idle = []
        for _ in range(2):  # each has had its answer and stays open, idle
            reader, writer = await connect(fake)
            writer.write(b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await asyncio.wait_for(reader.readuntil(b"ok"), GUARD)
            idle.append((reader, writer))
        try:
            seen = await health(fake)  # a third client is served
            assert seen["connections"]["evicted"] >= 1
            assert seen["connections"]["refused"] == 0
            closed = await asyncio.wait_for(idle[0][0].read(), GUARD)  # the oldest idle one, quietly
            assert not closed.startswith(b"HTTP/")
        finally:
            for _reader, writer in idle:
                writer.close()


async def test_an_idle_keep_alive_connection_is_closed() -> None:
    async with FakeServer(port=0, idle_timeout=1) as fake:
        reader, writer = await connect(fake)
        try:
            writer.write(b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GUARD)
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.startswith(b"Content-Length"))
            )
            await reader.readexactly(length)
            assert await asyncio.wait_for(reader.read(), GUARD) == b""  # closed by the fake, not by us
        finally:
            writer.close()


async def test_health_says_what_the_open_file_limit_allows() -> None:
    async with FakeServer(port=0) as fake:
        seen = (await health(fake))["connections"]
    assert seen["open_file_limit"] != 0
    if seen["open_file_limit"] > 0:
        assert 0 < seen["max"] < seen["open_file_limit"]  # room kept for files, the log, the upstream
