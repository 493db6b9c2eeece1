"""State that survives a restart: ids, images, attachments and the journal in one SQLite file.

`Store` (_store.py) is the open file: connection, lock, schema, damage and space. Here are the
pieces of `State` backed by it: the journal, the attachments and the storage that opens them;
the image store is in _sqlite_images.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from mockserver.core.storage._records_json import decode_record, encode_record
from mockserver.core.storage._sqlite_images import RecentBlobs, SqliteImageStore
from mockserver.core.storage._store import Store
from mockserver.core.storage.errors import StateFileDamaged, StateUnavailable, StateWriteFailed
from mockserver.core.storage.links import Attachments
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
        self._appending = False

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
                # What memory no longer keeps (the limit, or the byte budget shared with every tenant) goes.
                first = max(self._first_kept(record.seq), record.seq - self.limit + 1 if self.limit else 0)
                self._store.write("DELETE FROM calls WHERE seq < ?", (first,))
                dropped = self.dropped + (1 if self.limit and len(self) >= self.limit else 0)  # once appended
                self._store.commit(next_id=self._ids.peek, next_seq=record.seq + 1, dropped=dropped)
            except STORAGE_FAILURES:
                if changed_state:
                    raise  # what the call stored was rolled back: its answer must not say it was kept
                # The call changed nothing the file keeps: its record stays in memory only.
        self._appending = True
        try:
            super().append(record)
        finally:
            self._appending = False

    def _first_kept(self, default: int) -> int:
        with self._lock:
            return self._records[0].seq if self._records else default

    def shed(self) -> bool:
        """Drop the oldest record for the budget, and from the file too (now if it is free, else at its next append)."""
        if not super().shed():
            return False
        if not self._appending:  # another journal's call made this one give up: the file follows now
            self._store.give_up(self._trim)
        return True

    def _trim(self) -> bool:
        self._store.write("DELETE FROM calls WHERE seq < ?", (self._first_kept(self._next_seq),))
        return True

    def clear(self, *, reset_seq: bool = False) -> None:
        super().clear(reset_seq=reset_seq)
        self._store.write("DELETE FROM calls")
        self._store.commit(dropped=0, **({"next_seq": 1} if reset_seq else {}))


class _FileAttachments(Attachments):
    """The links of a state file: every change written through, read back after a rollback."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self.reload()

    def _writing(self) -> AbstractContextManager[Any]:
        return self._store.lock

    def _giving_up(self, step: Callable[[], bool]) -> bool:
        return self._store.give_up(step)

    def _wrote(self, kind: str, key: int, blob_id: int) -> None:
        # REPLACE gives the row a new rowid: the file keeps the links newest last, as memory does.
        self._store.write("INSERT OR REPLACE INTO attachments VALUES (?, ?, ?)", (kind, key, blob_id))

    def _deleted(self, kind: str, key: int) -> None:
        self._store.write("DELETE FROM attachments WHERE kind = ? AND key = ?", (kind, key))

    def _cleared(self, kind: str) -> None:
        self._store.write("DELETE FROM attachments WHERE kind = ?", (kind,))

    def reload(self) -> None:
        """Read the links again from the file (at open, and after a rolled-back transaction)."""
        for links in self.values():
            dict.clear(links)
        for kind, key, blob_id in self._store.rows("SELECT kind, key, blob_id FROM attachments ORDER BY rowid"):
            dict.__setitem__(self.setdefault(kind), key, blob_id)  # already on disk
        self._recount()

    def clear(self) -> None:
        with self._store.lock:
            super().clear()
            self._store.write("DELETE FROM attachments")
            self._store.commit()


class SqliteStorage:
    """A state file: ids, images, attachments and the journal survive a restart (``--state FILE``).

    `pool` bounds the files open at once (isolated tenants' files, see sqlite_tenants.py); a
    file that cannot be opened is then a `StateUnavailable` (a 503 while serving). `cache` is the
    cache of recently read blobs, one for a fake's files (the root file's, given to its tenants').
    """

    def __init__(self, path: Path | str, pool: OpenFiles | None = None, cache: RecentBlobs | None = None) -> None:
        self.path = Path(path)
        self.store: Store | None = None
        self.cache = cache if cache is not None else RecentBlobs()
        self._pool = pool
        self._ids: IdSequence | None = None
        self._mark: int | None = None  # the next id before the call being written

    def open(self, ids: IdSequence, journal_limit: int) -> tuple[ImageStore, CallLog, Attachments]:
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
        images, attachments = SqliteImageStore(store, self.cache), _FileAttachments(store)

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
