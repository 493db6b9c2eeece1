"""The state file under steady load: rows and size bounded by the image budget, flat after warm-up.

The same picture saved again and again is one blob but one metadata row per save: the rows
count against the image budget, and past it the oldest go (their ids still answer 410, never
404). Pages freed by deleted rows are reused, so the file stops growing.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from mockserver import Fake, RawRequest
from mockserver.core.storage.memory import METADATA_WEIGHT

from ..support import GIF, PNG, SAVE_PATH, json_headers, save_body

BUDGET = 256 * 1024
GET_BLOB = "/api/v1/Agents/BLOB/GetBlobStream"


def save(fake: Fake, image: bytes, description: str = "a picture") -> int:
    outcome = fake.process(
        RawRequest.build(
            "POST", SAVE_PATH, headers=json_headers(), body=save_body(image=image, description=description)
        )
    )
    assert outcome.status == 200, outcome.body
    return int(outcome.body)


def rows(state: Path, table: str) -> int:
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def file_size(state: Path) -> int:
    """The database file's size (its WAL is bounded on its own: checkpointed every 1,000 pages)."""
    return state.stat().st_size


def test_rows_stay_bounded_and_the_file_flat_under_steady_saves(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state, image_budget=BUDGET, journal_limit=300)  # the journal at its bound early
    sizes = []
    mix = random.Random(7)
    for _round in range(6):
        for n in range(500):  # mostly the same 1x1 GIF, some distinct pictures, some long descriptions
            if n % 10 == 0:
                save(fake, PNG + mix.randbytes(2000))
            else:
                save(fake, GIF, "x" * (n % 7) * 100)
        fake.state.storage.store.commit()  # type: ignore[attr-defined]
        sizes.append(file_size(state))
        assert fake.state.images.held <= BUDGET + METADATA_WEIGHT + 2000 + 700  # type: ignore[attr-defined]
    fake.release()
    kept = rows(state, "images")
    assert 0 < kept <= BUDGET // METADATA_WEIGHT  # 3,000 saves, a bounded number of rows
    assert rows(state, "calls") == 300
    warm = sizes[1]
    print("database file after each 500 saves:", sizes)
    assert all(size <= warm * 1.1 for size in sizes[2:]), sizes  # flat after warm-up


def test_an_id_whose_row_the_budget_took_is_410_not_404(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state, image_budget=16 * 1024)
    ids = [save(fake, GIF) for _ in range(200)]
    assert fake.images.entry(ids[0]) is not None
    assert fake.images.entry(ids[0]) is not None and fake.images.entry(ids[0]).evicted  # type: ignore[union-attr]
    body = json.dumps({"BlobEntityId": ids[0]}).encode()
    outcome = fake.process(RawRequest.build("POST", GET_BLOB, headers=json_headers(), body=body))
    assert outcome.status == 410
    assert fake.images[ids[-1]] == GIF  # the newest always stays
    assert fake.images.entry(ids[-1] + 1) is None  # never issued: still unknown
    fake.release()
    assert rows(state, "images") <= 16 * 1024 // METADATA_WEIGHT
    again = Fake(state=state, image_budget=16 * 1024)  # what was forgotten is remembered across a restart
    try:
        assert again.images.entry(ids[0]) is not None
    finally:
        again.release()
