"""The image budget: past it the oldest images keep their metadata and lose their bytes, in memory and on file."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import ConfigError, Fake, FakeServer, RawRequest, Settings
from mockserver.core.config import env_overrides
from mockserver.core.storage.errors import DEFAULT_IMAGE_BUDGET, ImageEvicted, format_size
from mockserver.core.storage.memory import ImageStore, metadata_weight
from mockserver.core.storage.sqlite import SqliteStorage
from mockserver.core.storage.state import State
from mockserver.tools.cli import build_parser, settings_and_sources

from ..support import PNG, SAVE_PATH, json_headers, save_body

KIB = 1024
ROW = metadata_weight("PersonImage", "a picture")  # what each saved image's metadata row counts in a file
GET_BLOB = "/api/v1/Agents/BLOB/GetBlobStream"


def image(n: int, size: int = 4 * KIB) -> bytes:
    """A distinct PNG-looking image of `size` bytes."""
    return (PNG + f"#{n}#".encode()).ljust(size, b"\0")


def save(fake: Fake, data: bytes) -> int:
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(image=data)))
    assert outcome.status == 200, outcome.body
    return int(outcome.body)


def get_blob(fake: Fake, blob_id: int) -> tuple[int, Any]:
    body = json.dumps({"BlobEntityId": blob_id}).encode()
    outcome = fake.process(RawRequest.build("POST", GET_BLOB, headers=json_headers(), body=body))
    return outcome.status, outcome.body


# ---- the setting ------------------------------------------------------------------------


def test_the_budget_defaults_to_512_mib_and_reads_sizes_from_the_environment_and_the_command_line() -> None:
    assert Settings().image_budget == DEFAULT_IMAGE_BUDGET == 512 * 1024 * 1024
    assert env_overrides({"MOCKSERVER_IMAGE_BUDGET": "64M"}) == {"image_budget": 64 * 1024 * 1024}
    assert env_overrides({"MOCKSERVER_IMAGE_BUDGET": "0"}) == {"image_budget": 0}
    args = build_parser().parse_args(["serve", "--image-budget", "2G"])
    assert settings_and_sources(args)[0].image_budget == 2 * 1024**3
    with pytest.raises(ConfigError, match="image_budget"):
        Settings(image_budget=-1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--image-budget", "lots"])


def test_sizes_are_named_in_binary_units() -> None:
    assert [format_size(n) for n in (512 * 1024**2, 64 * 1024**2, 1536 * 1024**2, 1024, 10)] == [
        "512 MiB",
        "64 MiB",
        "1.5 GiB",
        "1 KiB",
        "10 bytes",
    ]


# ---- in memory --------------------------------------------------------------------------


def test_past_the_budget_the_oldest_bytes_go_and_their_metadata_stays() -> None:
    images = ImageStore(budget=10 * KIB + 4 * metadata_weight("PersonImage", "picture 1"))
    for n in range(1, 5):
        images.put(n, image(n), "PersonImage", f"picture {n}")
    assert images.held_bytes == 8 * KIB and list(images) == [3, 4] and len(images) == 2
    assert images.evicted_ids() == [1, 2]
    entry = images.entry(1)
    assert entry is not None and entry.evicted and entry.data is None
    assert (entry.info.size, entry.info.format, entry.type, entry.description) == (
        4 * KIB,
        "png",
        "PersonImage",
        "picture 1",
    )
    assert images[4] == image(4)


def test_an_evicted_id_says_so_and_a_never_stored_one_says_that() -> None:
    images = ImageStore(budget=4 * KIB)
    images.put(1, image(1), None, None)
    images.put(2, image(2), None, None)
    with pytest.raises(ImageEvicted) as evicted:
        images[1]
    assert str(evicted.value) == "blob id 1 was evicted (image budget 4 KiB)"
    assert isinstance(evicted.value, KeyError) and 1 not in images
    with pytest.raises(KeyError, match="no image with blob id 9") as missing:
        images[9]
    assert not isinstance(missing.value, ImageEvicted)
    assert images.entry(9) is None


def test_the_newest_image_stays_even_alone_over_the_budget_and_0_means_unlimited() -> None:
    images = ImageStore(budget=KIB)
    images.put(1, image(1), None, None)
    assert images[1] == image(1)
    images.put(2, image(2), None, None)
    assert list(images) == [2]
    unlimited = ImageStore(budget=0)
    for n in range(50):
        unlimited.put(n, image(n), None, None)
    assert len(unlimited) == 50 and unlimited.evicted_ids() == []


def test_lowering_the_budget_evicts_at_once_and_clear_forgets_everything() -> None:
    images = ImageStore()
    for n in range(1, 5):
        images.put(n, image(n), None, None)
    images.limit_to(8 * KIB + 4 * metadata_weight(None, None))
    assert list(images) == [3, 4]
    images.clear()
    assert (len(images), images.held_bytes, images.entry(1), images.evicted_ids()) == (0, 0, None, [])


def test_concurrent_saves_keep_the_count_of_held_bytes_exact() -> None:
    images = ImageStore(budget=64 * KIB)
    ids = iter(range(1, 100_000))
    lock = threading.Lock()

    def saver() -> None:
        for _ in range(200):
            with lock:
                blob_id = next(ids)
            images.put(blob_id, image(blob_id, KIB * (1 + blob_id % 7)), None, None)

    threads = [threading.Thread(target=saver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = [images.entry(blob_id) for blob_id in images]
    assert images.held_bytes == sum(len(e.data or b"") for e in held if e is not None) <= 64 * KIB
    kept = [*images, *images.evicted_ids()]
    assert images.held == images.held_bytes + len(kept) * metadata_weight(None, None) <= 64 * KIB
    # Every id is still answered: its bytes, its metadata, or (metadata dropped too) as evicted.
    entries = [images.entry(blob_id) for blob_id in range(1, 1601)]
    assert all(e is not None for e in entries) and sum(1 for e in entries if e is not None and e.forgotten) > 0


def test_the_fake_journals_evicted_saves_and_getblobstream_answers_410_not_404() -> None:
    fake = Fake(image_budget=8 * KIB)
    ids = [save(fake, image(n)) for n in range(4)]
    assert [c.request["Image"].size for c in fake.calls] == [4 * KIB] * 4  # the journal keeps describing them
    status, body = get_blob(fake, ids[0])
    error = json.loads(body)
    assert status == 410 and error["ErrorType"] == "ImageEvictedException"
    assert "blob id 1 was evicted (image budget 8 KiB)" in error["Message"]
    assert error["Violations"][0]["location"] == "body.BlobEntityId"
    assert get_blob(fake, 99)[0] == 404
    assert get_blob(fake, ids[-1]) == (200, image(3))


def test_attaching_an_evicted_blob_is_still_allowed() -> None:
    """The blob was saved; SuperOffice would link it. Only its bytes are gone from the fake."""
    fake = Fake(image_budget=4 * KIB)
    save(fake, image(1))
    save(fake, image(2))
    body = json.dumps({"PersonId": 7, "BlobId": 1}).encode()
    outcome = fake.process(
        RawRequest.build("POST", "/api/v1/Agents/BLOB/ChangePersonImage", headers=json_headers(), body=body)
    )
    assert outcome.status == 204 and dict(fake.person_images) == {7: 1}


async def test_images_route_answers_410_for_evicted_404_for_unknown_and_streams_the_rest() -> None:
    big = image(1, 3 * 1024 * 1024 + 17)  # several slices
    async with FakeServer(port=0, image_budget=4 * 1024 * 1024) as fake, ClientSession() as http:
        first = save(fake, big)
        last = save(fake, image(2, 2 * 1024 * 1024))
        async with http.get(f"{fake.url}/_images/{first}") as resp:
            assert resp.status == 410
            error = await resp.json()
        assert error["ErrorType"] == "ImageEvictedException" and error["Error"] is True
        assert "blob id 1 was evicted (image budget 4 MiB)" in error["Message"]
        assert error["Violations"][0]["location"] == "path.blob_id"
        async with http.get(f"{fake.url}/_images/77") as resp:
            assert resp.status == 404
        async with http.get(f"{fake.url}/_images/{last}") as resp:
            assert (resp.status, resp.content_length, await resp.read()) == (
                200,
                2 * 1024 * 1024,
                image(2, 2 * 1024 * 1024),
            )
        async with http.head(f"{fake.url}/_images/{last}") as resp:
            assert (resp.status, resp.headers["Content-Length"], await resp.read()) == (200, str(2 * 1024 * 1024), b"")
        # Many readers at once all get every byte of the one stored object.
        fake.state.images.limit_to(0)
        again = save(fake, big)

        async def fetch() -> bytes:
            async with http.get(f"{fake.url}/_images/{again}") as resp:
                return await resp.read()

        assert set(await asyncio.gather(*(fetch() for _ in range(20)))) == {big}


# ---- on file ----------------------------------------------------------------------------


def test_the_budget_deletes_blob_rows_on_file_and_keeps_the_image_rows(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state, image_budget=8 * KIB + 5 * ROW)
    for n in range(5):
        save(fake, image(n))
    assert list(fake.images) == [4, 5] and fake.images.evicted_ids() == [1, 2, 3]
    with pytest.raises(ImageEvicted, match="blob id 2 was evicted"):
        fake.images[2]
    assert get_blob(fake, 2)[0] == 410
    fake.state.close()
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM images").fetchone()[0] == 5
        assert db.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2
    reopened = Fake(state=state, image_budget=8 * KIB + 5 * ROW)
    entry = reopened.images.entry(1)
    assert entry is not None and entry.evicted and entry.info.size == 4 * KIB
    assert reopened.images[5] == image(4)
    reopened.state.close()


def test_a_picture_saved_again_counts_by_its_newest_save(tmp_path: Path) -> None:
    """Blobs are stored once per content: the one saved again last is not the oldest."""
    fake = Fake(state=tmp_path / "state.sqlite", image_budget=12 * KIB + 5 * ROW)
    save(fake, image(0))  # 1
    save(fake, image(1))  # 2
    save(fake, image(2))  # 3
    save(fake, image(0))  # 4: same bytes as 1, now the newest use of that blob
    save(fake, image(3))  # 5: over budget: the blob of 2 goes, not the one of 1 and 4
    assert list(fake.images) == [1, 3, 4, 5] and fake.images.evicted_ids() == [2]
    fake.state.close()


def test_opening_a_file_with_a_smaller_budget_evicts_and_shrinks_it(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state, image_budget=0)
    for _ in range(40):
        save(fake, os.urandom(256 * KIB))
    fake.state.close()
    big = state.stat().st_size
    fake = Fake(state=state, image_budget=1024 * KIB + 40 * ROW)
    assert len(fake.images) == 4 and len(fake.images.evicted_ids()) == 36
    fake.state.close()
    assert state.stat().st_size < big / 4


def test_reset_gives_the_space_back_and_keeps_the_file_locked(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    for _ in range(20):
        save(fake, os.urandom(512 * KIB))
    wal = Path(f"{state}-wal")
    before = state.stat().st_size + wal.stat().st_size
    fake.reset()
    after = state.stat().st_size + wal.stat().st_size
    assert before > 10 * 1024 * KIB and after < 256 * KIB
    with pytest.raises(ConfigError, match="in use by another running fake"):
        Fake(state=state)
    assert save(fake, image(1)) == 1 and fake.images[1] == image(1)
    fake.state.close()
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL


def test_a_file_from_before_auto_vacuum_is_converted_once(tmp_path: Path) -> None:
    state = tmp_path / "old.sqlite"
    with sqlite3.connect(state) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        db.execute("CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('next_id', 1)")
    assert sqlite3.connect(state).execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    fake = Fake(state=state)
    assert save(fake, image(1)) == 1
    fake.state.close()
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2


def test_the_state_file_shares_one_copy_of_bytes_between_readers(tmp_path: Path) -> None:
    fake = Fake(state=tmp_path / "state.sqlite")
    blob_id = save(fake, image(1, 64 * KIB))
    first, second = fake.images.entry(blob_id), fake.images.entry(blob_id)
    assert first is not None and second is not None and first.data is second.data
    fake.state.close()


def test_state_budget_default_comes_from_the_state(tmp_path: Path) -> None:
    state = State(storage=SqliteStorage(tmp_path / "s.sqlite"))
    assert state.images.budget == DEFAULT_IMAGE_BUDGET
    state.close()
