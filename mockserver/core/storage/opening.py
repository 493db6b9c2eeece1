"""Opening a state file: is it the fake's, stamp it if new, lock it, check it, give it its tables.

A file the fake creates is stamped with SQLite's ``application_id`` (`APPLICATION_ID`) and
``user_version`` (`SCHEMA_VERSION`) in its first transaction, before the switch to WAL, so the
stamp is on disk from the file's first byte. `inspect` reads the first 100 bytes as plain bytes
before SQLite is let near a file: a file that is not empty and not stamped so is refused with
`NotAStateFile` and left exactly as it was (no lock, no journal rolled back, no mtime changed).
An unstamped file whose every table and index is one the fake creates (made before the stamp)
is adopted; so, at every open, a file with a table the fake did not create is refused, and a
reset never drops one.

``locking_mode=EXCLUSIVE`` is set before anything reads the file: the first fake holds it until
it closes or dies (a second one refuses to start), and the WAL index lives in memory, so an open
file costs two descriptors (the database and its WAL), never a ``-shm`` third.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mockserver.core.storage.errors import NotAStateFile, StateFileDamaged
from mockserver.core.vocabulary.errors import ConfigError

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    # Content-addressed: the same picture saved twice (a retried save) is stored once.
    "CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)",
    # An image whose sha256 has no row in blobs was evicted by the image budget: metadata only.
    "CREATE TABLE IF NOT EXISTS images (blob_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
    " format TEXT, type TEXT, description TEXT)",
    "CREATE INDEX IF NOT EXISTS images_by_sha256 ON images (sha256)",
    "CREATE TABLE IF NOT EXISTS calls (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS attachments (kind TEXT NOT NULL, key INTEGER NOT NULL, blob_id INTEGER NOT NULL,"
    " PRIMARY KEY (kind, key))",
    # The root file of isolated tenants lists every tenant file it made (sqlite_tenants.py).
    "CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, file TEXT NOT NULL)",
)
APPLICATION_ID = 0x4D6B5346  # "MkSF": PRAGMA application_id of every file the fake creates
SCHEMA_VERSION = 1  # PRAGMA user_version: the schema above; a file with a higher one is a newer fake's
SQLITE_MAGIC = b"SQLite format 3\x00"
# What each statement leaves in sqlite_master (SQLite keeps the text without "IF NOT EXISTS").
OWN_OBJECTS = frozenset(statement.replace(" IF NOT EXISTS", "") for statement in SCHEMA)
SYNCHRONOUS = "NORMAL"  # see the module docstring; "FULL" also survives a power cut
INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # the WAL is cut back to this after a checkpoint


def inspect(path: Path) -> bool:
    """Is `path` a file the fake may use? True for a new one (missing or empty), False for its own.

    Reads the file as bytes (and, for an unstamped SQLite file, its schema through an immutable
    read-only connection, which takes no lock and never rolls back a journal): nothing in the
    file or beside it is changed. Raises `NotAStateFile` for anything else.
    """
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise ConfigError(f"cannot open the state file {path}: {exc.strerror or exc}") from None
    if not header:
        return True
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise NotAStateFile(path, "not an SQLite database")
    user_version = int.from_bytes(header[60:64], "big")
    application_id = int.from_bytes(header[68:72], "big")
    if application_id == APPLICATION_ID:
        if user_version > SCHEMA_VERSION:
            raise NotAStateFile(
                path, f"made by a newer mockserver: schema version {user_version}, this one knows {SCHEMA_VERSION}"
            )
        return False
    if application_id != 0:
        raise NotAStateFile(path, f"an SQLite database of another application, application_id {application_id:#x}")
    foreign = _foreign_objects(_schema_of(path))
    if foreign:
        raise NotAStateFile(path, foreign)
    return False  # made by the fake before files were stamped: every table in it is the fake's


def _schema_of(path: Path) -> list[tuple[str, str | None]]:
    """(name, sql) of every object in the file, read without a lock or a write (immutable=1)."""
    uri = "file:" + path.resolve().as_posix().replace("?", "%3f").replace("#", "%23") + "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=0)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open the state file {path}: {exc}") from None
    try:
        return conn.execute("SELECT name, sql FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT:
            raise StateFileDamaged(path, str(exc)) from None
        raise NotAStateFile(path, f"SQLite says: {exc}") from None
    finally:
        conn.close()


def _foreign_objects(objects: list[tuple[str, str | None]]) -> str:
    """Why these tables and indexes are not (all) the fake's; '' when they are."""
    names = [name for name, sql in objects if not name.startswith("sqlite_") and sql not in OWN_OBJECTS]
    if not names and not any(name == "meta" for name, _sql in objects):
        # An empty database someone else made: the fake stamps and fills a new file in one step.
        return "an SQLite database without any table of the fake's"
    if not names:
        return ""
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return "an SQLite database with tables the fake did not create: " + ", ".join(sorted(names)[:5]) + more


def connect(path: Path, *, check: bool = True) -> sqlite3.Connection:
    new = inspect(path)
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open the state file {path}: {exc}") from None
    try:
        _prepare(conn, path, new=new, check=check)
    except (StateFileDamaged, NotAStateFile):
        conn.close()
        raise
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise ConfigError(
                f"the state file {path} is in use by another running fake ({exc}); one state file serves one "
                "fake at a time: stop the other one or give this one its own --state file"
            ) from None
        raise ConfigError(f"cannot use {path} as a state file: {exc}") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT:
            raise StateFileDamaged(path, str(exc)) from None
        raise NotAStateFile(path, f"SQLite says: {exc}") from None
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, *, new: bool, check: bool = True) -> None:
    """Stamp a new file, lock the file, check it is intact and ours, make sure deletes can shrink it.

    A new file gets its stamp and its tables in its first transaction, before the switch to WAL,
    so that a file the fake created carries the stamp from its first byte on disk.
    """
    # First, before anything reads the file: a WAL left by the last close is then opened without a
    # -shm file (the WAL index lives in memory), so an open file costs two descriptors, not three.
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    # Takes effect on a new file's first table, or at the VACUUM below for a file from before it.
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    if new:
        conn.execute("BEGIN EXCLUSIVE")
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            conn.execute("ROLLBACK")  # someone wrote to it since it was looked at: leave it alone
            raise NotAStateFile(path, "an SQLite database that appeared while the fake was opening it")
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        for statement in SCHEMA:
            conn.execute(statement)
        conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    # Take the exclusive lock now, not at the first save, so a second fake fails at start.
    conn.execute("BEGIN EXCLUSIVE")
    if check:
        lines = [
            line.strip()
            for row in conn.execute("PRAGMA quick_check(3)").fetchall()
            for line in str(row[0]).splitlines()
        ]
        problems = [line for line in lines if line and not line.startswith("*** in database")]
        if problems != ["ok"]:
            conn.execute("ROLLBACK")
            raise StateFileDamaged(path, "; ".join(problems))
    # Checked again under the lock, with the WAL's content: still the fake's own tables only.
    foreign = _foreign_objects(conn.execute("SELECT name, sql FROM sqlite_master").fetchall())
    if foreign:
        conn.execute("ROLLBACK")
        raise NotAStateFile(path, foreign)
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")  # a file of the fake's from before the stamp
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.execute("COMMIT")
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != INCREMENTAL:
        conn.execute("VACUUM")  # once, for a file made before auto_vacuum: rebuilt with it on
    conn.execute("BEGIN EXCLUSIVE")
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute("COMMIT")


__all__ = ["APPLICATION_ID", "SCHEMA", "SCHEMA_VERSION", "SYNCHRONOUS", "WAL_SIZE_LIMIT", "connect", "inspect"]
