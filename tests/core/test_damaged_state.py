"""A damaged state file: one clear error at start-up, a 503 naming the file while serving, never "a bug"."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import ConfigError, Fake, FakeServer, RawRequest
from mockserver.core.storage._store import Store
from mockserver.core.storage.errors import StateFileDamaged

from ..support import PNG, SAVE_PATH, json_headers, save_body, serve_on_state

ROOT = Path(__file__).resolve().parents[2]
GET_BLOB = "/api/v1/Agents/BLOB/GetBlobStream"
PAGE = 4096


def picture(n: int) -> bytes:
    """A 40 KiB image whose bytes are unlike any other's, so they can be found in the file."""
    return PNG + random.Random(n).randbytes(40 * 1024)


def filled_state(tmp_path: Path, count: int = 6) -> Path:
    """A closed state file holding `count` saves."""
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    for n in range(count):
        outcome = fake.process(
            RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(image=picture(n)))
        )
        assert outcome.status == 200
    fake.state.close()
    return state


def overwrite_middle(state: Path) -> None:
    """Two whole pages in the middle of the file turned to 0xFF: page headers and pointers included."""
    data = bytearray(state.read_bytes())
    start = (len(data) // 2) // PAGE * PAGE
    data[start : start + 2 * PAGE] = b"\xff" * 2 * PAGE
    state.write_bytes(bytes(data))


def overwrite_image_data(state: Path, n: int) -> None:
    """Change bytes inside image `n`'s data only, leaving every page header and pointer as it was."""
    data = bytearray(state.read_bytes())
    needle = picture(n)[20_000:20_064]
    where = data.find(needle)
    assert where > 0 and data.find(needle, where + 1) == -1
    data[where : where + 64] = bytes(64)
    state.write_bytes(bytes(data))


def assert_damaged_answer(status: int, body: Any, state: Path) -> None:
    assert status == 503
    assert body["Error"] is True and body["ErrorType"] == "StateFileDamagedException"
    assert body["Message"].startswith(f"state file {state} is damaged: ")
    assert body["Message"].endswith("; move it away to start fresh")
    assert "bug" not in body["Message"]
    assert body["Violations"][0]["location"] == "state"


# ---- at start-up ------------------------------------------------------------------------


def test_a_damaged_file_refuses_to_open_with_the_reason(tmp_path: Path) -> None:
    state = filled_state(tmp_path)
    overwrite_middle(state)
    with pytest.raises(StateFileDamaged) as damaged:
        Fake(state=state)
    text = str(damaged.value)
    assert text.startswith(f"state file {state} is damaged: ") and text.endswith("; move it away to start fresh")
    assert "\n" not in text
    assert isinstance(damaged.value, ConfigError)  # a start-up problem like any unusable --state


def test_serve_prints_one_error_line_and_exits_2(tmp_path: Path) -> None:
    state = filled_state(tmp_path)
    overwrite_middle(state)
    done = serve_on_state(state)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: state file {state} is damaged: ")
    assert lines[0].endswith("; move it away to start fresh")
    assert "Traceback" not in done.stderr and "listening" not in done.stdout


def test_an_intact_file_still_opens_and_a_foreign_file_is_still_not_a_state_file(tmp_path: Path) -> None:
    state = filled_state(tmp_path)
    fake = Fake(state=state)
    assert fake.images[1] == picture(0)
    fake.state.close()
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database\n" * 500)
    with pytest.raises(ConfigError, match="not a mockserver state file"):
        Fake(state=foreign)


# ---- while serving ----------------------------------------------------------------------


async def test_damaged_image_data_is_a_503_on_every_route_that_meets_it(tmp_path: Path) -> None:
    state = filled_state(tmp_path)
    overwrite_image_data(state, 0)  # blob id 1; quick_check cannot see inside data
    async with FakeServer(port=0, state=state) as fake, ClientSession() as http:
        async with http.get(f"{fake.url}/_images/2") as resp:
            assert (resp.status, await resp.read()) == (200, picture(1))  # the intact ones still serve
        async with http.get(f"{fake.url}/_images/1") as resp:
            assert_damaged_answer(resp.status, await resp.json(), state)
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert_damaged_answer(resp.status, await resp.json(), state)
        body = json.dumps({"BlobEntityId": 2})
        async with http.post(fake.url + GET_BLOB, data=body, headers=json_headers()) as resp:
            assert_damaged_answer(resp.status, await resp.json(), state)
        async with http.post(f"{fake.url}/_reset") as resp:
            assert_damaged_answer(resp.status, await resp.json(), state)
        async with http.get(f"{fake.url}/_calls") as resp:  # the journal in memory still answers
            calls = (await resp.json())["calls"]
        assert [c["status"] for c in calls] == [200] * 6 + [503, 503]  # the reset did not happen either
        assert all(c["violations"][0]["location"] == "state" for c in calls[-2:])


def test_damaged_image_data_found_through_the_core(tmp_path: Path) -> None:
    state = filled_state(tmp_path)
    overwrite_image_data(state, 2)
    fake = Fake(state=state)
    with pytest.raises(StateFileDamaged, match="blob id 3 no longer match their SHA-256"):
        fake.images[3]
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    assert_damaged_answer(outcome.status, json.loads(outcome.body), state)
    fake.state.close()  # closing a damaged store neither raises nor writes


class FailingConnection:
    """A connection whose statements matching `failing` fail as SQLite fails on a malformed page."""

    def __init__(self, conn: sqlite3.Connection, failing: str) -> None:
        self.conn, self.failing = conn, failing

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if self.failing in sql:
            error = sqlite3.DatabaseError("database disk image is malformed")
            error.sqlite_errorcode = sqlite3.SQLITE_CORRUPT  # type: ignore[attr-defined]
            raise error
        return self.conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def _break(fake: Fake, monkeypatch: pytest.MonkeyPatch, failing: str) -> Store:
    store = fake.state.storage.store  # type: ignore[attr-defined]
    assert isinstance(store, Store)
    monkeypatch.setattr(store, "_conn", FailingConnection(store._conn, failing))
    return store


def test_sqlite_reporting_damage_while_serving_marks_the_store_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = Fake(state=tmp_path / "state.sqlite")
    store = _break(fake, monkeypatch, "INSERT OR REPLACE INTO calls")
    # A rejected call changed nothing: its 400 is still the truth; the file just cannot record it.
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=b"{}"))
    assert outcome.status == 400 and fake.calls.last.status == 400
    assert store.damage == "database disk image is malformed"
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    assert_damaged_answer(outcome.status, json.loads(outcome.body), store.path)
    fake.state.close()


def test_a_save_whose_commit_meets_damage_is_never_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = Fake(state=tmp_path / "state.sqlite")
    store = _break(fake, monkeypatch, "INSERT OR REPLACE INTO calls")
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    assert_damaged_answer(outcome.status, json.loads(outcome.body), store.path)
    assert [(c.status, c.blob_id) for c in fake.calls] == [(503, None)]  # journaled as failed, never as 200
    assert fake.next_id == 1  # the id it took was given back
    fake.state.close()


def test_sqlite_damage_reading_an_image_is_a_503_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake(state=tmp_path / "state.sqlite")
    fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    _break(fake, monkeypatch, "FROM images i")
    body = json.dumps({"BlobEntityId": 1}).encode()
    outcome = fake.process(RawRequest.build("POST", GET_BLOB, headers=json_headers(), body=body))
    assert_damaged_answer(outcome.status, json.loads(outcome.body), tmp_path / "state.sqlite")
    fake.state.close()
