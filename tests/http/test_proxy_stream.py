"""A long upstream answer is passed on as it comes: what the proxy holds stays bounded.

A local upstream sends a large answer with Content-Length, an endless chunked one, and one that
stalls; each loop on its side is bounded in count. Memory is measured with tracemalloc's peak
(what Python allocated at most while the answer went through), not by timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientPayloadError, ClientSession, web

from mockserver import ProxyServer
from mockserver.http import upstream as upstream_module

from ..support import BASIC, SAVE_PATH, save_body

CHUNK = b"x" * (64 * 1024)
BIG = 1024  # chunks: 64 MiB
ENDLESS_BOUND = 8192  # chunks: 512 MiB, far more than any test reads
KEPT = 256 * 1024
MiB = 1024 * 1024


class Upstream:
    """What the local upstream did: chunks written by the endless answer before it was cut off."""

    def __init__(self) -> None:
        self.written = 0
        self.done = asyncio.Event()

    async def big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = BIG * len(CHUNK)
        await response.prepare(request)
        for _ in range(BIG):
            await response.write(CHUNK)
        await response.write_eof()
        return response

    async def endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(ENDLESS_BOUND):
                await response.write(CHUNK)
                self.written += 1
                if "slow" in request.path:
                    await asyncio.sleep(0.05)
        except ConnectionError:  # the proxy hung up: what the test wants
            pass
        finally:
            self.done.set()
        return response

    async def long_id(self, request: web.Request) -> web.Response:
        """A JSON id padded to 1 MiB: too long to keep, so its shape is not checked."""
        return web.Response(body=b" " * MiB + b"33", content_type="application/json")


@pytest.fixture
async def upstream(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Upstream, str]]:
    monkeypatch.setattr(upstream_module, "KEPT_ANSWER", KEPT)
    side = Upstream()
    app = web.Application()
    app.router.add_route("GET", "/big/{tail:.*}", side.big)
    app.router.add_route("GET", "/endless/{tail:.*}", side.endless)
    app.router.add_route("GET", "/slow/{tail:.*}", side.endless)
    app.router.add_route("POST", "/long_id/{tail:.*}", side.long_id)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield side, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_a_large_answer_reaches_the_client_whole_while_the_proxy_keeps_a_prefix(
    upstream: tuple[Upstream, str],
) -> None:
    _side, url = upstream
    async with ProxyServer(url + "/big", port=0) as proxy, ClientSession() as http:
        tracemalloc.start()
        try:
            digest, size = hashlib.sha256(), 0
            async with http.get(proxy.url + "/x") as resp:
                assert resp.status == 200
                assert resp.content_length == BIG * len(CHUNK)
                async for piece in resp.content.iter_chunked(64 * 1024):
                    digest.update(piece)
                    size += len(piece)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert size == BIG * len(CHUNK)
    assert digest.digest() == hashlib.sha256(CHUNK * BIG).digest()
    # 64 MiB went through; the proxy (and this client) held a few MiB at most.
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB while passing on 64 MiB"
    seen = proxy.calls.last.extra["upstream"]
    assert seen["size"] == BIG * len(CHUNK)
    assert seen["kept"] <= KEPT
    assert proxy.calls.last.extra["drift"] == []


async def test_an_endless_answer_holds_bounded_memory_and_stops_when_the_client_goes(
    upstream: tuple[Upstream, str],
) -> None:
    side, url = upstream
    async with ProxyServer(url + "/endless", port=0) as proxy, ClientSession() as http:
        tracemalloc.start()
        try:
            got = 0
            async with http.get(proxy.url + "/x") as resp:
                assert resp.status == 200
                async for piece in resp.content.iter_chunked(64 * 1024):
                    got += len(piece)
                    if got >= 96 * MiB:
                        break
                resp.close()  # the client hangs up mid-answer
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        await asyncio.wait_for(side.done.wait(), 10)  # the proxy let go of the upstream too
        calls = await proxy.wait_for_calls(1, timeout=10)
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB after 96 MiB of an endless answer"
    assert side.written < ENDLESS_BOUND
    seen = calls.last.extra["upstream"]
    assert seen["kept"] <= KEPT
    assert seen["size"] >= 96 * MiB
    cut = [d for d in calls.last.extra["drift"] if d["kind"] == "no_answer"]
    assert cut and "the client went away" in cut[0]["got"]


async def test_an_answer_past_the_timeout_is_cut_short_for_the_client_too(upstream: tuple[Upstream, str]) -> None:
    side, url = upstream
    async with ProxyServer(url + "/slow", port=0, timeout=1.0) as proxy, ClientSession() as http:
        got = 0
        with pytest.raises(ClientPayloadError):  # never made to look complete
            async with http.get(proxy.url + "/x") as resp:
                assert resp.status == 200
                async for piece in resp.content.iter_chunked(64 * 1024):
                    got += len(piece)
        await asyncio.wait_for(side.done.wait(), 10)
        calls = await proxy.wait_for_calls(1, timeout=10)
    assert 0 < side.written < ENDLESS_BOUND
    cut = [d for d in calls.last.extra["drift"] if d["kind"] == "no_answer"]
    assert cut and "TimeoutError" in cut[0]["got"]


async def test_a_long_answer_to_a_checked_call_skips_only_the_checks_of_its_content(
    upstream: tuple[Upstream, str],
) -> None:
    _side, url = upstream
    headers = {"Content-Type": "application/json", "Authorization": BASIC}
    async with (
        ProxyServer(url + "/long_id", port=0) as proxy,
        ClientSession() as http,
        http.post(proxy.url + SAVE_PATH, data=save_body(), headers=headers) as resp,
    ):
        assert resp.status == 200
        assert (await resp.read()).endswith(b"33")
    record = proxy.calls.last
    assert record.extra["upstream"]["size"] == MiB + 2
    assert record.result is None  # the id was past the kept prefix: not read
    assert record.extra["drift"] == []  # status and media type checked; the body's shape not
