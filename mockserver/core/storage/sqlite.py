"""State that survives a restart: ids, images, attachments and the journal in one SQLite file.

Every call commits once, inside `Fake.process`, before the answer is handed to the HTTP shell:
an acknowledged save is in the file. The file runs in WAL mode with ``synchronous=NORMAL``: a
commit has been written to the WAL (so it is in the kernel's page cache) before COMMIT returns,
which survives anything that can happen to the fake's process (SIGTERM, SIGKILL, a crash, the
OOM killer). Only a kernel crash or power cut can drop the last commits, and that also ends the
test run that relied on them; ``FULL`` would fsync every commit for about six times less
throughput (set `SYNCHRONOUS` before opening to choose it). ``locking_mode=EXCLUSIVE`` makes the
first fake hold the file until it closes or dies: a second fake pointed at it refuses to start
rather than hand out the same ids twice.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..ids import IdSequence
from ..images import ImageInfo
from ..journal import CallLog
from ..records import CallRecord
from .memory import ImageStore, StoredImage
from .records_json import decode_record, encode_record

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    # Content-addressed: the same picture saved twice (a retried save) is stored once.
    "CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS images (blob_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
    " format TEXT, type TEXT, description TEXT)",
    "CREATE TABLE IF NOT EXISTS calls (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS attachments (kind TEXT NOT NULL, key INTEGER NOT NULL, blob_id INTEGER NOT NULL,"
    " PRIMARY KEY (kind, key))",
)
SYNCHRONOUS = "NORMAL"  # see the module docstring; "FULL" also survives a power cut


class Store:
    """One open state file. All access goes through one connection under one lock."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._closed = False
        self._conn = _connect(self.path)

    def write(self, sql: str, params: Iterable[Any] = ()) -> None:
        """Run a write inside the current transaction; `commit` makes it durable."""
        with self._lock:
            if self._closed:
                raise ConfigError(f"the state file {self.path} is closed; start a new fake to write to it")
            if not self._conn.in_transaction:
                self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(sql, tuple(params))

    def commit(self, **meta: int) -> None:
        with self._lock:
            for key, value in meta.items():
                self.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if not self._closed:
                return self._conn.execute(sql, tuple(params)).fetchall()
        # Read after close (a test looking at fake.images once the server stopped): a short read-only peek.
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0)
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            raise ConfigError(f"cannot read the closed state file {self.path}: {exc}") from None
        finally:
            conn.close()

    def meta(self) -> dict[str, int]:
        return {key: value for key, value in self.rows("SELECT key, value FROM meta")}

    def close(self) -> None:
        """Commit, leave a single self-contained file behind, and release the lock. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")
            # Back to a rollback journal: no -wal file left, and read-only peeks need no write access.
            self._conn.execute("PRAGMA journal_mode=DELETE")
            self._conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open the state file {path}: {exc}") from None
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        # Take the exclusive lock now, not at the first save, so a second fake fails at start.
        conn.execute("BEGIN EXCLUSIVE")
        for statement in SCHEMA:
            conn.execute(statement)
        conn.execute("COMMIT")
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
        raise ConfigError(f"{path} is not a mockserver state file (SQLite says: {exc})") from None
    return conn


# ---- the pieces of State, backed by the file --------------------------------------------


class SqliteImageStore(ImageStore):
    """Blob id → bytes, read from the file; nothing is kept in memory."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    def put(
        self, blob_id: int, data: bytes, type: str | None, description: str | None, info: ImageInfo | None = None
    ) -> StoredImage:
        info = info or ImageInfo.of(data)
        self._store.write("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (info.sha256, data))
        self._store.write(
            "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?, ?)",
            (blob_id, info.sha256, info.size, info.format, type, description),
        )
        return StoredImage(blob_id, data, info, type, description)

    def entry(self, blob_id: int) -> StoredImage | None:
        rows = self._store.rows(
            "SELECT b.data, i.sha256, i.size, i.format, i.type, i.description FROM images i"
            " JOIN blobs b ON b.sha256 = i.sha256 WHERE i.blob_id = ?",
            (blob_id,),
        )
        if not rows:
            return None
        data, sha256, size, fmt, type_, description = rows[0]
        return StoredImage(blob_id, bytes(data), ImageInfo(size, sha256, fmt), type_, description)

    def __getitem__(self, blob_id: int) -> bytes:
        entry = self.entry(blob_id)
        if entry is None:
            known = ", ".join(str(i) for i in list(self)[:10]) or "none"
            raise KeyError(f"no image with blob id {blob_id} (stored ids: {known})")
        return entry.data

    def __iter__(self) -> Iterator[int]:
        return iter([row[0] for row in self._store.rows("SELECT blob_id FROM images ORDER BY blob_id")])

    def __len__(self) -> int:
        return int(self._store.rows("SELECT count(*) FROM images")[0][0])

    def clear(self) -> None:
        self._store.write("DELETE FROM images")
        self._store.write("DELETE FROM blobs")
        self._store.commit()


class PersistentLog(CallLog):
    """The journal, committed to the file with the call's id and image in one transaction."""

    def __init__(self, limit: int, store: Store, ids: IdSequence) -> None:
        super().__init__(limit)
        self._store = store
        self._ids = ids

    def append(self, record: CallRecord) -> None:
        super().append(record)
        self._store.write(
            "INSERT OR REPLACE INTO calls (seq, record) VALUES (?, ?)", (record.seq, encode_record(record))
        )
        if self.limit and record.seq > self.limit:
            self._store.write("DELETE FROM calls WHERE seq <= ?", (record.seq - self.limit,))
        self._store.commit(next_id=self._ids.peek, next_seq=record.seq + 1, dropped=self.dropped)

    def clear(self, *, reset_seq: bool = False) -> None:
        super().clear(reset_seq=reset_seq)
        self._store.write("DELETE FROM calls")
        self._store.commit(dropped=0, **({"next_seq": 1} if reset_seq else {}))


class _Links(dict[int, int]):
    """Entity id → blob id for one kind; every change is written through."""

    def __init__(self, store: Store, kind: str, items: Mapping[int, int] | None = None) -> None:
        super().__init__(items or {})
        self._store, self._kind = store, kind

    def __setitem__(self, key: int, blob_id: int) -> None:
        super().__setitem__(key, blob_id)
        self._store.write("INSERT OR REPLACE INTO attachments VALUES (?, ?, ?)", (self._kind, key, blob_id))

    def __delitem__(self, key: int) -> None:
        super().__delitem__(key)
        self._store.write("DELETE FROM attachments WHERE kind = ? AND key = ?", (self._kind, key))

    def pop(self, key: int, *default: Any) -> Any:
        if key in self:
            value = self[key]
            del self[key]
            return value
        return super().pop(key, *default)

    def clear(self) -> None:
        super().clear()
        self._store.write("DELETE FROM attachments WHERE kind = ?", (self._kind,))


class _Attachments(dict[str, dict[int, int]]):
    """Kind → links; the mapping `State.attachments` is, with writes going to the file."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        for kind, key, blob_id in store.rows("SELECT kind, key, blob_id FROM attachments ORDER BY rowid"):
            self.setdefault(kind, {})
            dict.__setitem__(self[kind], key, blob_id)  # already on disk

    def setdefault(self, kind: str, default: Mapping[int, int] | None = None) -> dict[int, int]:
        if kind not in self:
            links = _Links(self._store, kind)
            super().__setitem__(kind, links)
            for key, blob_id in (default or {}).items():
                links[key] = blob_id
        return self[kind]

    def __setitem__(self, kind: str, value: Mapping[int, int]) -> None:
        self.pop(kind, None)
        self.setdefault(kind, value)

    def pop(self, kind: str, *default: Any) -> Any:
        links = self.get(kind)
        if isinstance(links, _Links):
            links.clear()
        return super().pop(kind, *default)

    def clear(self) -> None:
        super().clear()
        self._store.write("DELETE FROM attachments")
        self._store.commit()


class SqliteStorage:
    """A state file: ids, images, attachments and the journal survive a restart (``--state FILE``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.store: Store | None = None

    def open(self, ids: IdSequence, journal_limit: int) -> tuple[ImageStore, CallLog, dict[str, dict[int, int]]]:
        """Open (or create) the file and restore what it holds: the next id, the journal, the links."""
        store = self.store = Store(self.path)
        meta = store.meta()
        ids.set_next(meta.get("next_id", ids.first))
        journal = PersistentLog(journal_limit, store, ids)
        newest = "SELECT record FROM calls ORDER BY seq DESC" + (
            f" LIMIT {int(journal.limit)}" if journal.limit else ""
        )
        records = [r for r in (decode_record(row[0]) for row in reversed(store.rows(newest))) if r is not None]
        journal.restore(records, meta.get("next_seq", 1), meta.get("dropped", 0))
        return SqliteImageStore(store), journal, _Attachments(store)

    def after_reset(self, next_id: int) -> None:
        if self.store is not None:
            self.store.commit(next_id=next_id, next_seq=1, dropped=0)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


__all__ = ["SqliteStorage", "Store"]
