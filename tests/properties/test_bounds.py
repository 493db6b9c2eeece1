"""One call's record stays small and one big body does not hold up the others.

A body naming a million unknown properties used to be recorded with a million warnings
(``/_calls/1`` was 215 MiB); decoding a body of many MiB ran on the event loop, so every other
client waited seconds for it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from aiohttp import ClientSession, ClientTimeout

from mockserver import FakeServer
from mockserver.core.body.binding import LISTED
from mockserver.core.exchange import Outcome, RawRequest
from mockserver.core.vocabulary.errors import KEPT_PER_CALL
from mockserver.http.app import THREAD_BODY_SIZE

from .wire import GIF_1X1_B64, GUARD, exchange, journal_views, request_bytes

SMALL = json.dumps({"Type": "PersonImage", "Image": GIF_1X1_B64}).encode()
XML_HEAD = b"<R><Type>PersonImage</Type><Image>" + GIF_1X1_B64.encode() + b"</Image>"


async def test_regression_a_million_unknown_xml_elements_are_counted_not_listed() -> None:
    raw = XML_HEAD + b"<a/>" * 1_000_000 + b"</R>"
    async with FakeServer(port=0) as fake:
        status, _, _ = await exchange(fake, request_bytes(raw, ctype=b"application/xml"))
        assert status == 200
        record = fake.calls.last
        assert len(record.warnings) == LISTED + 1
        assert record.warnings[-1].got == f"{1_000_000 - LISTED} more unknown"
        assert all(w.location == "body.a" for w in record.warnings[:LISTED])
        status, _, one = await exchange(fake, request_bytes(b"", method=b"GET", path=b"/_calls/1", ctype=None))
        assert status == 200 and len(one) < 16 * 1024
        await journal_views(fake, 1)


async def test_many_unknown_json_properties_and_repeats_are_counted_and_a_strict_answer_stays_small() -> None:
    many = ",".join(f'"x{i}":1' for i in range(50_000))
    repeats = ",".join('"type":1' for _ in range(5_000))
    raw = b'{"Type":"PersonImage","Image":"' + GIF_1X1_B64.encode() + b'",' + f"{many},{repeats}}}".encode()
    async with FakeServer(port=0, strict=True) as fake:
        status, _, answer = await exchange(fake, request_bytes(raw))
        assert status == 400 and len(answer) < 16 * 1024
        error = json.loads(answer)
        gots = [v["got"] for v in error["Violations"]]
        assert f"{5_000 - LISTED} more repeats" in gots and f"{50_000 - LISTED} more unknown" in gots
        assert len(error["Violations"]) <= KEPT_PER_CALL + 1
        assert len(fake.calls.last.violations) <= KEPT_PER_CALL + 1


async def test_warnings_from_headers_are_capped_with_a_count_of_the_rest() -> None:
    bad_languages = ", ".join(f"l{i};q=x" for i in range(300)).encode()
    async with FakeServer(port=0) as fake:
        status, _, _ = await exchange(fake, request_bytes(SMALL, [(b"Accept-Language", bad_languages)]))
        assert status == 200
        warnings = fake.calls.last.warnings
        assert len(warnings) == KEPT_PER_CALL + 1
        assert (warnings[-1].location, warnings[-1].got) == ("warnings", f"{300 - KEPT_PER_CALL} more")
        calls = (await journal_views(fake, 1))["calls"]["calls"]
        assert (
            calls[0]["warnings"][-1]["message"]
            == f"warnings must be at most {KEPT_PER_CALL} kept per call (got 280 more)"
        )


async def test_a_big_body_is_processed_off_the_loop_so_small_saves_are_answered_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The big body's processing is held until three small saves were answered: on the loop it would deadlock."""
    entered, released = threading.Event(), threading.Event()
    async with FakeServer(port=0) as fake, ClientSession(timeout=ClientTimeout(total=GUARD)) as http:
        process = fake.process

        def held(raw: RawRequest) -> Outcome:
            if len(raw.body) > THREAD_BODY_SIZE:
                entered.set()
                assert released.wait(GUARD), "the small saves were never answered"
            return process(raw)

        monkeypatch.setattr(fake, "process", held)
        big = XML_HEAD + b"<a/>" * (THREAD_BODY_SIZE // 4 + 1) + b"</R>"
        headers = {"Authorization": "Basic dGplMDpUamUw"}

        async def post(body: bytes, ctype: str) -> int:
            async with http.post(fake.api_url, data=body, headers={**headers, "Content-Type": ctype}) as resp:
                await resp.read()
                return resp.status

        pending = asyncio.create_task(post(big, "application/xml"))
        assert await asyncio.to_thread(entered.wait, GUARD)  # the big body is being processed, and held
        started = time.monotonic()
        assert [await post(SMALL, "application/json") for _ in range(3)] == [200, 200, 200]
        assert time.monotonic() - started < GUARD
        released.set()
        assert await pending == 200
        assert fake.calls.last.warnings[-1].got.endswith("more unknown")
