"""State that survives a restart: ids, images, attachments and the journal in one SQLite file.

`Store` (_store.py) is the open file: connection, lock, schema, damage and space. Here are the
pieces of `State` backed by it: the journal, the attachments and the storage that opens them;
the image store is in _sqlite_images.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mockserver.core.storage._records_json import decode_record, encode_record
from mockserver.core.storage._sqlite_images import SqliteImageStore
from mockserver.core.storage._store import Store
from mockserver.core.storage.errors import StateFileDamaged, StateUnavailable, StateWriteFailed
from mockserver.core.storage.memory import ImageStore
from mockserver.core.storage.open_files import OpenFiles
from mockserver.core.vocabulary.errors import ConfigError
from mockserver.core.vocabulary.ids import IdSequence
from mockserver.core.vocabulary.journal import CallLog, kept_record
from mockserver.core.vocabulary.records import CallRecord, Pending

STORAGE_FAILURES = (StateFileDamaged, StateWriteFailed, StateUnavailable)


class PersistentLog(CallLog):
    """The journal, committed to the file with the call's id and image in one transaction.

    A record joins the journal in memory only once the file took it (or the call changed
    nothing the file keeps): a save whose commit failed is never listed as accepted.
    """

    def __init__(self, limit: int, store: Store, ids: IdSequence) -> None:
        super().__init__(limit)
        self._store = store
        self._ids = ids

    def append(self, entry: CallRecord | Pending) -> None:
        if entry.seq == 0 and isinstance(entry, Pending):
            entry.seq = self.next_seq()  # numbered first: the record the file keeps carries it
        record = kept_record(entry)  # the file keeps the record: built on write, within the record cap
        if self._store.damage is None:  # else the file takes nothing more (the call was answered so)
            changed_state = self._store.in_transaction  # the behaviour wrote (an image, a link) before this
            try:
                self._store.write(
                    "INSERT OR REPLACE INTO calls (seq, record) VALUES (?, ?)", (record.seq, encode_record(record))
                )
                if self.limit and record.seq > self.limit:
                    self._store.write("DELETE FROM calls WHERE seq <= ?", (record.seq - self.limit,))
                dropped = self.dropped + (1 if self.limit and len(self) >= self.limit else 0)  # once appended
                self._store.commit(next_id=self._ids.peek, next_seq=record.seq + 1, dropped=dropped)
            except STORAGE_FAILURES:
                if changed_state:
                    raise  # what the call stored was rolled back: its answer must not say it was kept
                # The call changed nothing the file keeps: its record stays in memory only.
        super().append(record)

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
        self.reload()

    def reload(self) -> None:
        """Read the links again from the file (after a rolled-back transaction)."""
        for links in self.values():
            dict.clear(links)
        for kind, key, blob_id in self._store.rows("SELECT kind, key, blob_id FROM attachments ORDER BY rowid"):
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
    """A state file: ids, images, attachments and the journal survive a restart (``--state FILE``).

    `pool` bounds the files open at once (isolated tenants' files, see sqlite_tenants.py); a
    file that cannot be opened is then a `StateUnavailable` (a 503 while serving).
    """

    def __init__(self, path: Path | str, pool: OpenFiles | None = None) -> None:
        self.path = Path(path)
        self.store: Store | None = None
        self._pool = pool
        self._ids: IdSequence | None = None
        self._mark: int | None = None  # the next id before the call being written

    def open(self, ids: IdSequence, journal_limit: int) -> tuple[ImageStore, CallLog, dict[str, dict[int, int]]]:
        """Open (or create) the file and restore what it holds: the next id, the journal, the links."""
        try:
            store = self.store = Store(self.path, self._pool)
        except (StateFileDamaged, StateUnavailable):
            raise
        except ConfigError as exc:
            if self._pool is None:
                raise
            raise StateUnavailable(self.path, getattr(exc, "reason", None) or str(exc)) from None
        meta = store.meta()
        self._ids = ids
        ids.set_next(meta.get("next_id", ids.first))
        journal = PersistentLog(journal_limit, store, ids)
        newest = "SELECT record FROM calls ORDER BY seq DESC" + (
            f" LIMIT {int(journal.limit)}" if journal.limit else ""
        )
        records = [r for r in (decode_record(row[0]) for row in reversed(store.rows(newest))) if r is not None]
        journal.restore(records, meta.get("next_seq", 1), meta.get("dropped", 0))
        images, attachments = SqliteImageStore(store), _Attachments(store)

        def rolled_back() -> None:  # the file is back where the call began: so is what memory mirrors
            if self._mark is not None:
                ids.set_next(self._mark)
            if store.damage is None:
                with contextlib.suppress(*STORAGE_FAILURES):
                    attachments.reload()

        store.on_rollback.append(rolled_back)
        return images, journal, attachments

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """Held from a call's first change to its commit: no other thread writes in between, and a
        failed write gives back the id the call took."""
        store = self.store
        if store is None or self._ids is None:
            yield
            return
        with store.lock:
            self._mark = self._ids.peek
            try:
                yield
            finally:
                self._mark = None

    def before_reset(self) -> None:
        if self.store is not None:
            self.store.wipe()

    def after_reset(self, next_id: int) -> None:
        if self.store is not None:
            self.store.commit(next_id=next_id, next_seq=1, dropped=0)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


__all__ = ["PersistentLog", "SqliteStorage", "Store"]
