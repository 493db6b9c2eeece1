"""Many clients at once: every id handed out exactly once, the journal in order, every image intact."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import sys
import threading
from collections.abc import Iterator

import pytest
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from mockserver import Fake, FakeServer
from mockserver.core.exchange import RawRequest

from .strategies import BUILDERS, SAVE_PATH

CLIENTS = 64
SAVES = 2000
FIRST = 7000
HEADERS = {"Content-Type": "application/json", "Authorization": "SOTicket 7T:concurrency"}


def images(count: int, seed: int = 5) -> list[bytes]:
    """Distinct small images of every buildable format (the index is written into the pixels)."""
    rng = random.Random(seed)
    kinds = sorted(BUILDERS)
    out = []
    for i in range(count):
        pixels = i.to_bytes(3, "big") + rng.randbytes(rng.randint(0, 9))
        out.append(BUILDERS[kinds[i % len(kinds)]](rng.randint(1, 6), rng.randint(1, 6), pixels))
    return out


def body(i: int, image: bytes) -> bytes:
    return json.dumps({"Type": 1 + i % 19, "Image": base64.b64encode(image).decode(), "Description": f"#{i}"}).encode()


def check_journal(fake: Fake, sent: list[bytes], got: dict[int, int]) -> None:
    """ids first..first+n-1 each once; records in seq order; each record and image is what was sent."""
    n = len(sent)
    assert sorted(got.values()) == list(range(FIRST, FIRST + n))
    calls = list(fake.calls)
    assert len(calls) == n and all(c.accepted for c in calls)
    assert [c.seq for c in calls] == list(range(calls[0].seq, calls[0].seq + n)), "journal out of seq order"
    for record in calls:
        i = int(record.description.removeprefix("#"))  # type: ignore[union-attr]
        assert got[i] == record.blob_id
        assert record.image is not None and record.image.sha256 == hashlib.sha256(sent[i]).hexdigest()
        assert fake.state.journal.get(record.seq) is record


async def test_64_clients_2000_saves_get_every_id_once_and_every_image_back() -> None:
    sent = images(SAVES)
    work: asyncio.Queue[int] = asyncio.Queue()
    for i in range(SAVES):
        work.put_nowait(i)
    got: dict[int, int] = {}

    async def client(fake: FakeServer) -> None:
        # One session and one connection per client: 64 sockets really in flight together.
        async with ClientSession(connector=TCPConnector(limit=1), timeout=ClientTimeout(total=60)) as http:
            while not work.empty():
                i = work.get_nowait()
                async with http.post(fake.api_url, data=body(i, sent[i]), headers=HEADERS) as resp:
                    assert resp.status == 200, await resp.text()
                    got[i] = int(await resp.text())

    async def fetch_all(fake: FakeServer) -> dict[int, bytes]:
        fetched: dict[int, bytes] = {}
        ids = asyncio.Queue[int]()
        for blob_id in got.values():
            ids.put_nowait(blob_id)

        async def fetcher() -> None:
            async with ClientSession(connector=TCPConnector(limit=1)) as http:
                while not ids.empty():
                    blob_id = ids.get_nowait()
                    async with http.get(f"{fake.url}/_images/{blob_id}") as resp:
                        assert resp.status == 200
                        fetched[blob_id] = await resp.read()

        await asyncio.gather(*(fetcher() for _ in range(CLIENTS)))
        return fetched

    async with FakeServer(port=0, first_id=FIRST, journal_limit=0) as fake:
        await asyncio.gather(*(client(fake) for _ in range(CLIENTS)))
        check_journal(fake, sent, got)
        fetched = await fetch_all(fake)
    assert all(fetched[got[i]] == sent[i] for i in range(SAVES)), "an image came back changed"


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    # Switch threads as often as possible so races in the core show up in a short run.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.usefixtures("tiny_switch_interval")
def test_the_core_called_from_many_threads_hands_out_each_id_once_and_journals_in_order() -> None:
    """`Fake.process` is documented as callable from any thread (ThreadedFakeServer, direct users)."""
    threads, per_thread = 8, 100
    sent = images(threads * per_thread, seed=9)
    fake = Fake(first_id=FIRST, journal_limit=0)
    got: dict[int, int] = {}
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        start.wait()
        for i in range(t * per_thread, (t + 1) * per_thread):
            out = fake.process(RawRequest.build("POST", SAVE_PATH, headers=HEADERS, body=body(i, sent[i])))
            assert out.status == 200
            got[i] = out.record.blob_id  # type: ignore[assignment]

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    check_journal(fake, sent, got)
    assert all(fake.images[got[i]] == sent[i] for i in range(len(sent)))


def test_regression_a_record_that_arrives_late_is_journaled_in_seq_order() -> None:
    """Found by the threaded test above: records were kept in arrival order, so get(seq) missed them."""
    from mockserver.core.vocabulary.journal import CallLog

    fake = Fake()
    first, second, third = (
        fake.process(RawRequest.build("POST", SAVE_PATH, headers=HEADERS, body=body(i, b"GIF89a"))).record
        for i in range(3)
    )
    log = CallLog(limit=2)
    for record in (first, third, second):  # second's thread lost the race to append
        log.append(record)
    assert [r.seq for r in log.snapshot()] == [second.seq, third.seq]
    assert log.get(second.seq) is second and log.get(third.seq) is third and log.dropped == 1
