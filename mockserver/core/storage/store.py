"""One open SQLite state file: the connection, its lock, the schema, and what happens when it is damaged.

Every call commits once, inside `Fake.process`, before the answer is handed to the HTTP shell:
an acknowledged save is in the file. The file runs in WAL mode with ``synchronous=NORMAL``: a
commit has been written to the WAL (so it is in the kernel's page cache) before COMMIT returns,
which survives anything that can happen to the fake's process (SIGTERM, SIGKILL, a crash, the
OOM killer). Only a kernel crash or power cut can drop the last commits, and that also ends the
test run that relied on them; ``FULL`` would fsync every commit for about six times less
throughput (set `SYNCHRONOUS` before opening to choose it). ``locking_mode=EXCLUSIVE`` makes the
first fake hold the file until it closes or dies: a second fake pointed at it refuses to start
rather than hand out the same ids twice.

Space: the file uses ``auto_vacuum=INCREMENTAL`` (a file from before gets it with a one-time
VACUUM at open), so deleted rows give their pages back: after evictions once more than
`RECLAIM_SLACK` bytes are free (below that the next saves reuse them). A reset replaces the
content by an empty database at once (`wipe`), and the file shrinks to a few pages.

Ownership: a file the fake creates is stamped with SQLite's ``application_id`` (`APPLICATION_ID`)
and ``user_version`` (`SCHEMA_VERSION`) before anything else is written. At open the first 100
bytes of the file are read as plain bytes, before SQLite is let near it: a file that is not
empty and not stamped so (a database of a user's own, another application's) is refused with
`NotAStateFile` and left exactly as it was. A file made by a version of the fake from before the
stamp (application_id 0) is adopted only if every table and index in it is one the fake creates;
so is a stamped file, at every open: a table the fake did not create is never emptied or dropped.

Failed writes: SQLite's "disk full", I/O and read-only errors roll back the whole transaction
(the call's image, links, id and record together) and raise `StateWriteFailed`, a 503; the
``on_rollback`` listeners put what is mirrored in memory back to what the file holds.

Open files: a store given an `OpenFiles` pool (isolated tenants') may be closed while idle to
keep the number of open files bounded; it is opened again, and checked again, on its next use.

Damage: ``PRAGMA quick_check`` runs at open; SQLite's "malformed" and "not a database" errors
while serving mark the store damaged. Either raises `StateFileDamaged`, and a damaged store
refuses every later read and write the same way: one clear error, never a half-written file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

from mockserver.core.storage.errors import NotAStateFile, StateFileDamaged, StateUnavailable, StateWriteFailed
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
RECLAIM_SLACK = 32 * 1024 * 1024  # free pages kept for the next saves before the file is shrunk
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # the WAL is cut back to this after a checkpoint
DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
# A write the file system refused: the file is intact, this call's changes are not in it.
WRITE_FAILURE_CODES = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}
)


def is_damage(exc: sqlite3.Error) -> bool:
    """True for SQLite's errors that mean the file's content is broken (not locked, full or missing)."""
    return getattr(exc, "sqlite_errorcode", None) in DAMAGE_CODES


def is_write_failure(exc: sqlite3.Error) -> bool:
    """True for SQLite's errors that mean the file system refused a write (full, I/O error, read-only)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in WRITE_FAILURE_CODES


class OpenFiles:
    """At most `limit` stores open at once (each holds two files: the database and its WAL).

    Using a store makes it the most recent; past the limit the least recently used idle stores
    are closed (one in the middle of a transaction, or in use on another thread, is skipped).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: OrderedDict[int, Store] = OrderedDict()
        self._lock = threading.Lock()

    def touch(self, store: Store) -> None:
        with self._lock:
            key = id(store)
            if key in self._open:
                self._open.move_to_end(key)
                return
            self._open[key] = store
            excess = len(self._open) - self.limit
            for other in list(self._open.values()):
                if excess <= 0:
                    break
                if other is not store and other.suspend():
                    del self._open[id(other)]
                    excess -= 1

    def forget(self, store: Store) -> None:
        with self._lock:
            self._open.pop(id(store), None)

    def __len__(self) -> int:
        return len(self._open)


class Store:
    """One open state file. All access goes through one connection under one lock (`lock`).

    `on_begin` listeners run as a write transaction starts, `on_rollback` ones after a failed
    write or damage rolled it back (to put what is mirrored in memory back to the file's state).
    """

    def __init__(self, path: Path | str, pool: OpenFiles | None = None) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.damage: str | None = None
        self.on_begin: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []
        self._closed = False
        self._freed = False
        self._pool = pool
        self._conn: sqlite3.Connection | None = _connect(self.path)
        if pool is not None:
            pool.touch(self)

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, opened again if the pool closed it while idle (callers hold the lock)."""
        conn = self._conn
        if conn is None:
            try:
                conn = self._conn = _connect(self.path, check=False)
            except ConfigError as exc:  # out of file descriptors, the file gone or replaced
                raise StateUnavailable(self.path, getattr(exc, "reason", None) or str(exc)) from None
        if self._pool is not None:
            self._pool.touch(self)
        return conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def suspend(self) -> bool:
        """Close the file while idle (the pool's call); False if it is busy. The next use opens it again."""
        if not self.lock.acquire(blocking=False):
            return False
        try:
            conn = self._conn
            if conn is None:
                return True
            if conn.in_transaction:
                return False
            self._conn = None
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            return True
        finally:
            self.lock.release()

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.in_transaction

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        if self.damage is not None:
            raise StateFileDamaged(self.path, self.damage)
        conn = self.conn
        try:
            return conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                self.damaged(str(exc))
            if is_write_failure(exc):
                self.write_failed(str(exc))
            raise

    def _rollback(self) -> None:
        """Roll back the open transaction, if any, and tell the listeners (lock held)."""
        conn = self._conn
        try:
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite may have rolled back itself; either way nothing of the transaction stands
        for listener in tuple(self.on_rollback):
            listener()

    def damaged(self, reason: str) -> NoReturn:
        """Mark the file damaged: roll back what this call wrote, refuse everything from now on."""
        with self.lock:
            if self.damage is None:
                self.damage = reason
                self._rollback()
            raise StateFileDamaged(self.path, self.damage)

    def write_failed(self, reason: str) -> NoReturn:
        """A write was refused (disk full, I/O): roll back the whole transaction and say so (a 503)."""
        with self.lock:
            self._rollback()
            raise StateWriteFailed(self.path, reason)

    def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a write inside the current transaction; `commit` makes it durable. Returns the rows changed."""
        with self.lock:
            if self._closed:
                raise ConfigError(f"the state file {self.path} is closed; start a new fake to write to it")
            if not self.conn.in_transaction:
                self._execute("BEGIN IMMEDIATE")
                for listener in tuple(self.on_begin):
                    listener()
            return self._execute(sql, tuple(params)).rowcount

    def commit(self, **meta: int) -> None:
        with self.lock:
            for key, value in meta.items():
                self.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            if self.in_transaction:
                self._execute("COMMIT")
            if self._freed:
                self._freed = False
                # What was committed stands; the next call meets the damage or the full disk.
                with contextlib.suppress(StateFileDamaged, StateWriteFailed, StateUnavailable):
                    self.reclaim(RECLAIM_SLACK)

    def freed(self) -> None:
        """Note that rows were deleted: after the commit, give the space back if it is more than the slack."""
        self._freed = True

    def reclaim(self, slack: int = 0) -> None:
        """Shrink the file by the free pages beyond `slack` bytes (outside a transaction)."""
        with self.lock:
            if self._closed or self.in_transaction:
                return
            page_size = self._execute("PRAGMA page_size").fetchone()[0]
            free = self._execute("PRAGMA freelist_count").fetchone()[0]
            excess = free - slack // page_size
            if excess <= 0:
                return
            try:
                if free * 2 > self._execute("PRAGMA page_count").fetchone()[0]:
                    # Mostly free: rebuilding copies only what is left, where moving pages one by one
                    # into the holes would take many times longer.
                    self.conn.execute("VACUUM")
                else:
                    # Python's execute() steps this PRAGMA once, freeing a single page; a script runs it out.
                    self.conn.executescript(f"PRAGMA incremental_vacuum({int(excess)});")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    self.damaged(str(exc))
                if is_write_failure(exc):
                    self.write_failed(str(exc))
                raise

    def wipe(self) -> None:
        """Replace the whole content by an empty state file, in one step, and shrink the file to it.

        Copying an empty database over this one (SQLite's backup) takes a fraction of a second
        where deleting the rows of a large file walks every page of every image.
        """
        with self.lock:
            if self._closed:
                raise ConfigError(f"the state file {self.path} is closed; start a new fake to write to it")
            if self.damage is not None:
                raise StateFileDamaged(self.path, self.damage)
            if self.in_transaction:
                self._execute("COMMIT")
            empty = sqlite3.connect(":memory:")
            try:
                empty.execute(f"PRAGMA page_size={int(self._execute('PRAGMA page_size').fetchone()[0])}")
                empty.execute("PRAGMA auto_vacuum=INCREMENTAL")
                # The copy replaces the header too: it must carry the stamp that says the file is ours.
                empty.execute(f"PRAGMA application_id={APPLICATION_ID}")
                empty.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                for statement in SCHEMA:
                    empty.execute(statement)
                kept = self._execute("SELECT name, file FROM tenants").fetchall()
                empty.executemany("INSERT INTO tenants VALUES (?, ?)", kept)  # the tenant files stay the fake's
                empty.commit()
                empty.backup(self.conn)
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    self.damaged(str(exc))
                if is_write_failure(exc):
                    self.write_failed(str(exc))
                raise
            finally:
                empty.close()

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            if not self._closed:
                return self._execute(sql, tuple(params)).fetchall()
        # Read after close (a test looking at fake.images once the server stopped): a short read-only peek.
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0)
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise StateFileDamaged(self.path, str(exc)) from None
            raise ConfigError(f"cannot read the closed state file {self.path}: {exc}") from None
        finally:
            conn.close()

    def meta(self) -> dict[str, int]:
        return {key: value for key, value in self.rows("SELECT key, value FROM meta")}

    def close(self) -> None:
        """Commit, leave a single self-contained file behind, and release the lock. Idempotent."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            if self._pool is not None:
                self._pool.forget(self)
            conn, self._conn = self._conn, None
            if conn is None:
                return  # closed while idle: nothing is pending
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK" if self.damage else "COMMIT")
                # Back to a rollback journal: no -wal file left, and read-only peeks need no write access.
                conn.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.DatabaseError as exc:
                # A full disk: what was committed is in the WAL, which the next open reads; nothing is lost.
                if self.damage is None and not is_write_failure(exc):
                    raise
            finally:
                conn.close()


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


def _connect(path: Path, *, check: bool = True) -> sqlite3.Connection:
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


__all__ = ["APPLICATION_ID", "SCHEMA", "SCHEMA_VERSION", "OpenFiles", "Store", "inspect", "is_damage"]
