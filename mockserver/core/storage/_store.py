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

Damage: ``PRAGMA quick_check`` runs at open; SQLite's "malformed" and "not a database" errors
while serving mark the store damaged. Either raises `StateFileDamaged`, and a damaged store
refuses every later read and write the same way: one clear error, never a half-written file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from mockserver.core.storage.errors import StateFileDamaged
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
)
SYNCHRONOUS = "NORMAL"  # see the module docstring; "FULL" also survives a power cut
INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL
RECLAIM_SLACK = 32 * 1024 * 1024  # free pages kept for the next saves before the file is shrunk
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # the WAL is cut back to this after a checkpoint
DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def is_damage(exc: sqlite3.Error) -> bool:
    """True for SQLite's errors that mean the file's content is broken (not locked, full or missing)."""
    return getattr(exc, "sqlite_errorcode", None) in DAMAGE_CODES


class Store:
    """One open state file. All access goes through one connection under one lock (`lock`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.damage: str | None = None
        self._closed = False
        self._freed = False
        self._conn = _connect(self.path)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        if self.damage is not None:
            raise StateFileDamaged(self.path, self.damage)
        try:
            return self._conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                self.damaged(str(exc))
            raise

    def damaged(self, reason: str) -> NoReturn:
        """Mark the file damaged: roll back what this call wrote, refuse everything from now on."""
        with self.lock:
            if self.damage is None:
                self.damage = reason
                try:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the rollback is a courtesy; the file is not trusted any more either way
            raise StateFileDamaged(self.path, self.damage)

    def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a write inside the current transaction; `commit` makes it durable. Returns the rows changed."""
        with self.lock:
            if self._closed:
                raise ConfigError(f"the state file {self.path} is closed; start a new fake to write to it")
            if not self._conn.in_transaction:
                self._execute("BEGIN IMMEDIATE")
            return self._execute(sql, tuple(params)).rowcount

    def commit(self, **meta: int) -> None:
        with self.lock:
            for key, value in meta.items():
                self.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            if self._conn.in_transaction:
                self._execute("COMMIT")
            if self._freed:
                self._freed = False
                with contextlib.suppress(StateFileDamaged):  # what was committed stands; the next call meets it
                    self.reclaim(RECLAIM_SLACK)

    def freed(self) -> None:
        """Note that rows were deleted: after the commit, give the space back if it is more than the slack."""
        self._freed = True

    def reclaim(self, slack: int = 0) -> None:
        """Shrink the file by the free pages beyond `slack` bytes (outside a transaction)."""
        with self.lock:
            if self._closed or self._conn.in_transaction:
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
                    self._conn.execute("VACUUM")
                else:
                    # Python's execute() steps this PRAGMA once, freeing a single page; a script runs it out.
                    self._conn.executescript(f"PRAGMA incremental_vacuum({int(excess)});")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    self.damaged(str(exc))
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
            if self._conn.in_transaction:
                self._execute("COMMIT")
            empty = sqlite3.connect(":memory:")
            try:
                empty.execute(f"PRAGMA page_size={int(self._execute('PRAGMA page_size').fetchone()[0])}")
                empty.execute("PRAGMA auto_vacuum=INCREMENTAL")
                for statement in SCHEMA:
                    empty.execute(statement)
                empty.commit()
                empty.backup(self._conn)
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    self.damaged(str(exc))
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
            try:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK" if self.damage else "COMMIT")
                # Back to a rollback journal: no -wal file left, and read-only peeks need no write access.
                self._conn.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.DatabaseError:
                if self.damage is None:
                    raise
            finally:
                self._conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open the state file {path}: {exc}") from None
    try:
        _prepare(conn, path)
    except StateFileDamaged:
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
        raise ConfigError(f"{path} is not a mockserver state file (SQLite says: {exc})") from None
    return conn


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Lock the file, check it is intact, make sure deletes can shrink it, create the tables."""
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file's first table
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    # Take the exclusive lock now, not at the first save, so a second fake fails at start.
    conn.execute("BEGIN EXCLUSIVE")
    lines = [
        line.strip() for row in conn.execute("PRAGMA quick_check(3)").fetchall() for line in str(row[0]).splitlines()
    ]
    problems = [line for line in lines if line and not line.startswith("*** in database")]
    if problems != ["ok"]:
        conn.execute("ROLLBACK")
        raise StateFileDamaged(path, "; ".join(problems))
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    conn.execute("COMMIT")
    if has_tables and conn.execute("PRAGMA auto_vacuum").fetchone()[0] != INCREMENTAL:
        conn.execute("VACUUM")  # once, for a file made before auto_vacuum: rebuilt with it on
    conn.execute("BEGIN EXCLUSIVE")
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute("COMMIT")


__all__ = ["SCHEMA", "Store", "is_damage"]
