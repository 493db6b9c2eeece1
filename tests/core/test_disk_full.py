"""A full disk under ``--state``: a 503 in SuperOffice's shape, the id given back, the call journaled as failed.

The file system is a real 2 MiB tmpfs mounted for the test when the tests run as root and
``mount`` works; otherwise the same limit is set with SQLite's ``max_page_count`` (SQLite then
answers "database or disk is full" exactly as on a full disk). Each test says which one it got.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession

from mockserver import Fake, FakeServer, RawRequest
from mockserver.core.storage._store import Store

from ..support import PNG, SAVE_PATH, json_headers, save_body

SMALL = 2 * 1024 * 1024
BALLAST = 512 * 1024  # taken away to make room again


def picture(n: int) -> bytes:
    """A 30 KB image unlike any other (content-addressed storage would keep equal ones once)."""
    return PNG + random.Random(n).randbytes(30_000)


@dataclass
class SmallDisk:
    directory: Path
    how: str  # "tmpfs" or "max_page_count"
    ballast: Path | None = None

    def limit(self, fake: Fake) -> None:
        """Hold the state file to the small size (a no-op on the real tmpfs)."""
        if self.how == "max_page_count":
            store = fake.state.storage.store  # type: ignore[attr-defined]
            assert isinstance(store, Store)
            with store.lock:
                page_size = store.conn.execute("PRAGMA page_size").fetchone()[0]
                store.conn.execute(f"PRAGMA max_page_count={(SMALL - BALLAST) // page_size}")

    def make_room(self, fake: Fake) -> None:
        if self.ballast is not None:
            self.ballast.unlink()
        else:
            store = fake.state.storage.store  # type: ignore[attr-defined]
            with store.lock:
                store.conn.execute(f"PRAGMA max_page_count={2**30}")


def _mount(directory: Path) -> bool:
    # NO_TMPFS=1 in the environment runs the max_page_count fallback instead.
    if os.geteuid() != 0 or shutil.which("mount") is None or os.environ.get("NO_TMPFS"):
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(directory)], capture_output=True, timeout=30
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    directory = tmp_path / "small"
    directory.mkdir()
    if _mount(directory):
        ballast = directory / "ballast"
        ballast.write_bytes(bytes(BALLAST))
        try:
            yield SmallDisk(directory, "tmpfs", ballast)
        finally:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True, timeout=30)
    else:
        yield SmallDisk(directory, "max_page_count")


def test_a_save_the_disk_cannot_hold_is_a_503_its_id_given_back_and_journaled_as_failed(small_disk: SmallDisk) -> None:
    print(f"small file system: {small_disk.how}")
    fake = Fake(state=small_disk.directory / "state.sqlite", image_budget=0)
    small_disk.limit(fake)
    answers = []
    for n in range(120):
        outcome = fake.process(
            RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(image=picture(n)))
        )
        answers.append((outcome.status, outcome.body))
    statuses = [status for status, _body in answers]
    assert set(statuses) == {200, 503}, statuses  # never a 500, never a crash
    stored = [int(body) for status, body in answers if status == 200]
    assert stored == list(range(1, len(stored) + 1))  # no id lost to a failed save
    failed = [body for status, body in answers if status == 503]
    assert b'"ErrorType":"StateFileWriteFailedException"' in failed[0].replace(b" ", b"")
    assert b"disk is full" in failed[0] and b"nothing of it was kept" in failed[0]
    # The journal says exactly what the answers said: a failed save is never listed as stored.
    assert [(c.status, c.blob_id) for c in fake.calls] == [
        (200, int(body)) if status == 200 else (503, None) for status, body in answers
    ]
    assert sorted(fake.images) == stored
    assert all(fake.images[i] == picture(i - 1) for i in stored)
    # Room again: the next save gets the id the first failed one would have had.
    small_disk.make_room(fake)
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    assert (outcome.status, outcome.body) == (200, str(len(stored) + 1).encode())
    fake.release()
    # What the file holds after a restart agrees: every acknowledged id, and no other. (Read from a
    # copy on a roomier disk: the WAL the full disk kept is part of the file.)
    copy = small_disk.directory.parent / "copy"
    copy.mkdir()
    for path in small_disk.directory.glob("state.sqlite*"):
        shutil.copy(path, copy / path.name)
    again = Fake(state=copy / "state.sqlite", image_budget=0)
    try:
        assert sorted(again.images) == [*stored, len(stored) + 1]
        accepted_in_file = [c.blob_id for c in again.calls if c.status == 200]
        assert accepted_in_file == [*stored, len(stored) + 1]
    finally:
        again.release()


async def test_served_full_disk_answers_503_and_images_agree_with_calls(small_disk: SmallDisk) -> None:
    print(f"small file system: {small_disk.how}")
    async with FakeServer(port=0, state=small_disk.directory / "state.sqlite", image_budget=0) as fake:
        small_disk.limit(fake)
        async with ClientSession() as http:
            answers = []
            for n in range(100):
                async with http.post(fake.api_url, data=save_body(image=picture(n)), headers=json_headers()) as resp:
                    answers.append((resp.status, resp.content_type, await resp.read()))
            assert {status for status, _t, _b in answers} == {200, 503}
            assert all(ctype == "application/json" for status, ctype, _b in answers if status == 503)
            async with http.get(f"{fake.url}/_calls") as resp:
                calls = (await resp.json())["calls"]
            assert [c["status"] for c in calls] == [status for status, _t, _b in answers]
            for call in calls:
                if call["status"] == 503:
                    assert call["blob_id"] is None
                    assert call["violations"][0]["location"] == "state"
                    continue
                async with http.get(f"{fake.url}/_images/{call['blob_id']}") as resp:
                    assert resp.status == 200  # every id the journal lists as stored is there
            stored = [c["blob_id"] for c in calls if c["status"] == 200]
            assert stored == list(range(1, len(stored) + 1))
            async with http.get(f"{fake.url}/_images/{len(stored) + 1}") as resp:
                assert resp.status == 404  # and nothing the failed saves were given


def test_rollback_restores_the_links_and_the_budget_count(small_disk: SmallDisk) -> None:
    """A failed save between links: the links in memory are the file's, the image budget's count too."""
    fake = Fake(state=small_disk.directory / "state.sqlite", image_budget=0)
    small_disk.limit(fake)
    images = fake.state.images
    held = []
    with contextlib.suppress(AssertionError):
        for n in range(200):
            before = images._held  # type: ignore[attr-defined]
            outcome = fake.process(
                RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(image=picture(n)))
            )
            if outcome.status == 503:
                assert images._held == before  # type: ignore[attr-defined]
                raise AssertionError("stop: the disk is full")
            held.append(images._held)  # type: ignore[attr-defined]
    assert held and images._held == held[-1]  # type: ignore[attr-defined]
    fake.release()
