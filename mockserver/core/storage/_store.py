"""One open SQLite state file: the connection, its lock, the schema, and what happens when it is damaged.

Every call commits once, inside `Fake.process`, before the answer is handed to the HTTP shell:
an acknowledged save is in the file. The file runs in WAL mode with ``synchronous=NORMAL``: a
commit has been written to the WAL (so it is in the kernel's page cache) before COMMIT returns,
which survives anything that can happen to the fake's process (SIGTERM, SIGKILL, a crash, the
OOM killer). Only a kernel crash or power cut can drop the last commits, and that also ends the
test run that relied on them; ``FULL`` would fsync every commit for about six times less
throughput (set `opening.SYNCHRONOUS` before opening to choose it). ``locking_mode=EXCLUSIVE`` makes the
first fake hold the file until it closes or dies: a second fake pointed at it refuses to start
rather than hand out the same ids twice.

Space: the file uses ``auto_vacuum=INCREMENTAL`` (a file from before gets it with a one-time
VACUUM at open), so deleted rows give their pages back: after evictions once more than
`RECLAIM_SLACK` bytes, or a quarter of the file, are free (below that the next saves reuse them). A reset replaces the
content by an empty database at once (`wipe`), and the file shrinks to a few pages.

Ownership: a file is opened only if it is the fake's (opening.py).

Failed writes: SQLite's "disk full", I/O and read-only errors roll back the whole transaction
(the call's image, links, id and record together) and raise `StateWriteFailed`, a 503; the
``on_rollback`` listeners put what is mirrored in memory back to what the file holds.

Open files: a store given a `Pool` (isolated tenants', open_files.py) may be closed while idle to
keep the number of open files bounded; it is opened again, and checked again, on its next use.

Damage: ``PRAGMA quick_check`` runs at open; SQLite's "malformed" and "not a database" errors
while serving mark the store damaged. Either raises `StateFileDamaged`, and a damaged store
refuses every later read and write the same way: one clear error, never a half-written file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, Protocol

from mockserver.core.storage.errors import StateFileDamaged, StateUnavailable, StateWriteFailed
from mockserver.core.storage.opening import APPLICATION_ID, SCHEMA, SCHEMA_VERSION, connect
from mockserver.core.vocabulary.errors import ConfigError

RECLAIM_SLACK = 32 * 1024 * 1024  # free pages kept for the next saves before the file is shrunk, at most
RECLAIM_SHARE = 0.25  # and at most this share of the file's pages (many small tenant files: little slack each)
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


class Pool(Protocol):
    """What bounds the open files (open_files.OpenFiles): told of each use, and of a close."""

    def touch(self, store: Store) -> None: ...

    def forget(self, store: Store) -> None: ...


class Store:
    """One open state file. All access goes through one connection under one lock (`lock`).

    `on_begin` listeners run as a write transaction starts, `on_rollback` ones after a failed
    write or damage rolled it back (to put what is mirrored in memory back to the file's state).
    """

    def __init__(self, path: Path | str, pool: Pool | None = None) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.damage: str | None = None
        self.on_begin: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []
        self._closed = False
        self._freed = False
        self._pool = pool
        self._conn: sqlite3.Connection | None = connect(self.path)
        if pool is not None:
            pool.touch(self)

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, opened again if the pool closed it while idle (callers hold the lock)."""
        conn = self._conn
        if conn is None:
            try:
                conn = self._conn = connect(self.path, check=False)
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
            self._failed(exc)

    def _failed(self, exc: sqlite3.DatabaseError) -> NoReturn:
        """Raise what SQLite's error means: damage, a refused write (both rolled back), or the error itself."""
        if is_damage(exc):
            self.damaged(str(exc))
        if is_write_failure(exc):
            self.write_failed(str(exc))
        raise exc

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
                    self.reclaim(RECLAIM_SLACK, RECLAIM_SHARE)

    def give_up(self, step: Callable[[], bool]) -> bool:
        """Run a budget's `step` (delete the oldest of something) on this file, for a budget settling.

        Another thread using the file means nothing may go now: False, without waiting (a thread
        holding one file's lock may be waiting for the budget's, so this one never waits for a
        file's). Inside a call's own transaction (the call's save made the budget settle) the
        step joins it, and a failed write goes to the call (its answer is the 503); otherwise what
        the step wrote is committed here, and a file that refuses the write gives nothing up.
        """
        if self._closed or self.damage is not None or not self.lock.acquire(blocking=False):
            return False
        try:
            if self.in_transaction:
                return step()
            try:
                done = step()
                self.commit()
                return done
            except (StateFileDamaged, StateWriteFailed, StateUnavailable):
                return False
        finally:
            self.lock.release()

    def freed(self) -> None:
        """Note that rows were deleted: after the commit, give the space back if it is more than the slack."""
        self._freed = True

    def reclaim(self, slack: int = 0, share: float = 0.0) -> None:
        """Shrink the file by its free pages beyond `slack` bytes or `share` of its pages, the fewer (not in a call)."""
        with self.lock:
            if self._closed or self.in_transaction:
                return
            page_size = self._execute("PRAGMA page_size").fetchone()[0]
            free = self._execute("PRAGMA freelist_count").fetchone()[0]
            pages = self._execute("PRAGMA page_count").fetchone()[0]
            excess = free - min(slack // page_size, int(pages * share))
            if excess <= 0:
                return
            try:
                if free * 2 > pages:
                    # Mostly free: rebuilding copies only what is left, where moving pages one by one
                    # into the holes would take many times longer.
                    self.conn.execute("VACUUM")
                else:
                    # Python's execute() steps this PRAGMA once, freeing a single page; a script runs it out.
                    self.conn.executescript(f"PRAGMA incremental_vacuum({int(excess)});")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                self._failed(exc)

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
                self._failed(exc)
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


__all__ = ["APPLICATION_ID", "SCHEMA", "SCHEMA_VERSION", "Store", "is_damage", "is_write_failure"]
