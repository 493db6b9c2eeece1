"""A state file proves it is the fake's: anything else is refused at start and never touched.

A file the fake creates carries SQLite's ``application_id`` and ``user_version``; a database of a
user's own, another application's file, or a file of the fake's to which someone added a table
is refused with one line naming it (exit status 2 from ``serve``). Isolated tenants' files are
the ones the root file lists, never whatever matches a name pattern beside it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from aiohttp import ClientSession

from mockserver import ConfigError, Fake, FakeServer, RawRequest
from mockserver.core.storage.errors import NotAStateFile
from mockserver.core.storage.opening import APPLICATION_ID, SCHEMA_VERSION

from ..support import SAVE_PATH, json_headers, save_body, serve_on_state

ROOT = Path(__file__).resolve().parents[2]

Snapshot = dict[str, tuple[str, int, int]]


def snapshot(directory: Path, *, skip: tuple[str, ...] = ()) -> Snapshot:
    """Every file under `directory` (but those under `skip`): its SHA-256, size and mtime in ns."""
    found: Snapshot = {}
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and not name.startswith(skip):
            stat = path.stat()
            found[name] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns)
    return found


def users_database(path: Path) -> Path:
    """A user's own database: one table of their data, nothing of the fake's."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ada'), ('grace')")
    return path


def save(fake: Fake, prefix: str = "") -> int:
    outcome = fake.process(RawRequest.build("POST", prefix + SAVE_PATH, headers=json_headers(), body=save_body()))
    assert outcome.status == 200, outcome.body
    return int(outcome.body)


def stamp(path: Path) -> tuple[int, int]:
    """(application_id, user_version) as the file's header says, read as bytes."""
    header = path.read_bytes()[:100]
    return int.from_bytes(header[68:72], "big"), int.from_bytes(header[60:64], "big")


# ---- the stamp ----------------------------------------------------------------------------------


def test_a_file_the_fake_creates_carries_its_application_id_and_schema_version(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    save(fake)
    fake.reset()  # the reset copies an empty database over the file: the stamp must survive it
    save(fake)
    fake.release()
    assert stamp(state) == (APPLICATION_ID, SCHEMA_VERSION)
    again = Fake(state=state)
    assert [c.blob_id for c in again.calls] == [1]
    again.release()


# ---- files that are not the fake's --------------------------------------------------------------


def test_a_database_with_a_users_own_table_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    state = users_database(tmp_path / "app.sqlite")
    before = snapshot(tmp_path)
    with pytest.raises(NotAStateFile) as refused:
        Fake(state=state)
    text = str(refused.value)
    assert "\n" not in text and text.startswith(f"{state} is not a mockserver state file")
    assert "tables the fake did not create: users" in text
    assert isinstance(refused.value, ConfigError)
    assert snapshot(tmp_path) == before  # not a byte, not an mtime, no -wal or -journal beside it
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT name FROM users ORDER BY id").fetchall() == [("ada",), ("grace",)]


def test_a_file_of_another_application_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "other.sqlite"
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")  # even with our names
    before = snapshot(tmp_path)
    with pytest.raises(NotAStateFile, match="another application, application_id 0x4d2"):
        Fake(state=state)
    assert snapshot(tmp_path) == before


def test_an_empty_database_someone_else_made_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "empty.sqlite"
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA user_version = 3")  # a database with a header but no table at all
    before = snapshot(tmp_path)
    with pytest.raises(NotAStateFile, match=r"without any table of the fake.s"):
        Fake(state=state)
    assert snapshot(tmp_path) == before


def test_a_state_file_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    Fake(state=state).release()
    with sqlite3.connect(state) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(NotAStateFile, match=f"schema version {SCHEMA_VERSION + 1}"):
        Fake(state=state)


def test_a_table_added_to_the_fakes_file_makes_it_refused_so_reset_never_drops_it(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    save(fake)
    fake.release()
    with sqlite3.connect(state) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('keep me')")
    with pytest.raises(NotAStateFile, match="tables the fake did not create: notes"):
        Fake(state=state)
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("keep me",)]


def test_a_file_made_before_the_stamp_is_adopted_when_every_table_is_the_fakes(tmp_path: Path) -> None:
    state = tmp_path / "old.sqlite"
    with sqlite3.connect(state) as db:  # the tables an earlier version created, no stamp
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        db.execute("CREATE TABLE calls (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('next_id', 7)")
    fake = Fake(state=state)
    assert save(fake) == 7
    fake.release()
    assert stamp(state) == (APPLICATION_ID, SCHEMA_VERSION)


def test_serve_refuses_a_foreign_file_with_one_line_and_exit_status_2(tmp_path: Path) -> None:
    state = users_database(tmp_path / "app.sqlite")
    before = snapshot(tmp_path)
    done = serve_on_state(state)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {state} is not a mockserver state file (an SQLite database with tables the fake did not "
        "create: users); the fake never writes to a file it did not create: give --state a new file name"
    ]
    assert snapshot(tmp_path) == before


async def test_fake_server_refuses_a_foreign_file(tmp_path: Path) -> None:
    state = users_database(tmp_path / "app.sqlite")
    with pytest.raises(NotAStateFile, match="is not a mockserver state file"):
        async with FakeServer(port=0, state=state):
            pass


# ---- tenant files -------------------------------------------------------------------------------


def test_a_sibling_that_looks_like_a_tenant_file_is_never_adopted_or_wiped(tmp_path: Path) -> None:
    state = tmp_path / "app.sqlite"
    first = Fake(state=state, tenants="isolated")
    save(first, "/Cust1")
    save(first, "/Cust1")
    first.release()
    # A backup copy of a real tenant file, under the name older versions globbed for.
    backup = tmp_path / "app.Cust9.sqlite"
    backup.write_bytes((tmp_path / "app.tenants" / "Cust1.sqlite").read_bytes())
    before = snapshot(tmp_path, skip=("app.sqlite", "app.tenants"))
    again = Fake(state=state, tenants="isolated")
    try:
        assert [name for name, _t in (again.tenants or ()).items()] == ["Cust1"]
        assert save(again, "/Cust9") == 1  # a new tenant, not the backup's ids
        again.reset()
        assert save(again, "/Cust1") == 1
    finally:
        again.release()
    assert snapshot(tmp_path, skip=("app.sqlite", "app.tenants")) == before


def test_an_unlisted_file_where_a_tenant_file_would_go_is_a_503_and_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "app.sqlite"
    (tmp_path / "app.tenants").mkdir()
    planted = users_database(tmp_path / "app.tenants" / "Cust2.sqlite")
    before = snapshot(tmp_path, skip=("app.sqlite",))
    fake = Fake(state=state, tenants="isolated")
    try:
        outcome = fake.process(RawRequest.build("POST", "/Cust2" + SAVE_PATH, headers=json_headers(), body=save_body()))
        assert outcome.status == 503
        assert b"StateFileUnavailableException" in outcome.body and str(planted).encode() in outcome.body
        assert fake.calls.last.status == 503
        assert save(fake, "/Cust3") == 1  # the other tenants are not affected
    finally:
        fake.release()
    assert snapshot(tmp_path, skip=("app.sqlite", "app.tenants/Cust3")) == before


async def test_nothing_but_the_fakes_own_files_is_ever_modified(tmp_path: Path) -> None:
    """Foreign files beside the state file and in the tenant directory: byte for byte and mtime the same
    after a start, saves in several tenants, a reset, a restart and a stop; the only new files are the fake's."""
    state = tmp_path / "app.sqlite"
    users_database(tmp_path / "app.Cust1.sqlite")  # a name older versions would have adopted
    (tmp_path / "app.sqlite.bak").write_bytes(b"a backup")
    (tmp_path / "app.tenants").mkdir()
    (tmp_path / "app.tenants" / "README").write_text("the user's own notes\n")
    users_database(tmp_path / "app.tenants" / "Cust9.sqlite")
    foreign = snapshot(tmp_path)
    for _run in range(2):  # a restart, the files already there
        async with FakeServer(port=0, state=state, tenants="isolated") as fake, ClientSession() as http:
            for prefix in ("", "/Cust1", "/Cust2", "/Cust1", "/Cust9"):
                async with http.post(fake.url + prefix + SAVE_PATH, data=save_body(), headers=json_headers()) as r:
                    assert r.status == (503 if prefix == "/Cust9" else 200)
            async with http.post(fake.url + "/_reset") as r:
                assert r.status == 200
            async with http.post(fake.url + "/Cust2" + SAVE_PATH, data=save_body(), headers=json_headers()) as r:
                assert r.status == 200
        after = snapshot(tmp_path)
        assert {name: after.get(name) for name in foreign} == foreign
    own = sorted(set(snapshot(tmp_path)) - set(foreign))
    assert own == ["app.sqlite", "app.tenants/Cust1.sqlite", "app.tenants/Cust2.sqlite"]
