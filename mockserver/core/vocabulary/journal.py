"""The journal: the bounded call log a fake appends to, and the `CallList` views users filter."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import overload

from mockserver.core.vocabulary.records import CallRecord, Pending, record_of

DEFAULT_JOURNAL_LIMIT = 10_000


class CallList:
    """An immutable, filterable list of call records (like respx's CallList)."""

    __slots__ = ("_items",)

    def __init__(self, items: tuple[CallRecord, ...] | list[CallRecord]) -> None:
        self._items = tuple(items)

    @overload
    def __getitem__(self, index: int) -> CallRecord: ...
    @overload
    def __getitem__(self, index: slice) -> CallList: ...
    def __getitem__(self, index: int | slice) -> CallRecord | CallList:
        if isinstance(index, slice):
            return CallList(self._items[index])
        return self._items[index]

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CallList):
            return self._items == other._items
        if isinstance(other, list | tuple):
            return list(self._items) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"CallList({len(self._items)} calls)"

    @property
    def count(self) -> int:
        return len(self._items)

    @property
    def called(self) -> bool:
        return bool(self._items)

    @property
    def last(self) -> CallRecord:
        if not self._items:
            raise IndexError("no calls were recorded")
        return self._items[-1]

    @property
    def first(self) -> CallRecord:
        if not self._items:
            raise IndexError("no calls were recorded")
        return self._items[0]

    def filter(
        self,
        predicate: Callable[[CallRecord], bool] | None = None,
        *,
        outcome: str | None = None,
        type: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        method: str | None = None,
    ) -> CallList:
        """Keep the calls that match every given criterion (`path` compares case-insensitively)."""
        if outcome is not None and outcome not in {"accepted", "rejected"}:
            raise ValueError(f"outcome must be 'accepted' or 'rejected' (got {outcome!r})")

        def keep(r: CallRecord) -> bool:
            return (
                (outcome is None or r.outcome == outcome)
                and (type is None or (r.type or "").lower() == type.lower())
                and (path is None or r.path.lower().rstrip("/") == path.lower().rstrip("/"))
                and (operation is None or (r.operation or "").lower() == operation.lower())
                and (status is None or r.status == status)
                and (method is None or r.method == method.upper())
                and (predicate is None or predicate(r))
            )

        return CallList([r for r in self._items if keep(r)])

    @property
    def accepted(self) -> CallList:
        return self.filter(outcome="accepted")

    @property
    def rejected(self) -> CallList:
        return self.filter(outcome="rejected")


class CallLog:
    """The journal: records in arrival order, at most `limit` kept (0 = unbounded).

    An entry may arrive `Pending` (exchange.CallFacts): its record is built on the first read, under
    the lock, and takes the entry's place; one that falls out unread is never built.
    """

    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        if limit < 0:
            raise ValueError(f"journal limit must be 0 (unbounded) or more (got {limit})")
        self.limit = limit
        self._records: deque[CallRecord | Pending] = deque(maxlen=limit or None)
        self._lock = threading.Lock()
        self._next_seq = 1
        self.dropped = 0
        self.total = 0
        self._listeners: list[Callable[[CallRecord], None]] = []
        # Separate from _lock so a waiter's predicate may take snapshots while it holds this one.
        self._changed = threading.Condition()
        self._waiting = 0  # waiters inside wait_until: append skips the Condition when there are none
        self._unbuilt = False  # some entry may still be pending

    def next_seq(self) -> int:
        """Reserve the next sequence number."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def append(self, entry: CallRecord | Pending) -> None:
        """Journal one call, dropping the oldest past the limit.

        A pending entry not numbered yet (seq 0: the fake's own calls) takes the next sequence
        number here. One numbered already (its seq reserved with `next_seq`, as the proxy does) goes
        in seq order: with several threads calling the core, a record can arrive after a later one,
        and `get` relies on the order.
        """
        with self._lock:
            if entry.seq == 0 and isinstance(entry, Pending):
                entry.seq = self._next_seq
                self._next_seq += 1
            if self.limit and len(self._records) == self.limit:
                self.dropped += 1
            records = self._records
            if records and records[-1].seq > entry.seq:
                later = []
                while records and records[-1].seq > entry.seq:
                    later.append(records.pop())
                records.append(entry)
                records.extend(reversed(later))
            else:
                records.append(entry)
            if type(entry) is not CallRecord:
                self._unbuilt = True
            self.total += 1
        self._appended(entry)

    def _appended(self, record: CallRecord | Pending) -> None:
        # A waiter counts itself in before its first look at the records, so one that is not yet
        # counted here sees this record without being woken.
        if self._waiting:
            with self._changed:
                self._changed.notify_all()
        if self._listeners:
            built = record_of(record)
            for listener in tuple(self._listeners):
                listener(built)

    def subscribe(self, listener: Callable[[CallRecord], None]) -> None:
        """Call `listener(record)` after every append (used by waiters and persistence)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[CallRecord], None]) -> None:
        """Stop calling `listener`; unknown listeners are ignored."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def wait_until(self, predicate: Callable[[CallList], bool], timeout: float | None) -> bool:
        """Block this thread until `predicate(snapshot)` holds; False when `timeout` passed first."""
        with self._changed:
            self._waiting += 1
            try:
                return self._changed.wait_for(lambda: predicate(self.snapshot()), timeout)
            finally:
                self._waiting -= 1

    def since(self, seq: int) -> CallList:
        """The records with a sequence number above `seq`, oldest first."""
        with self._lock:
            return CallList(tuple(r for r in self._built() if r.seq > seq))

    def snapshot(self) -> CallList:
        with self._lock:
            return CallList(self._built())

    def get(self, seq: int) -> CallRecord | None:
        with self._lock:
            entries = self._records
            if not entries:
                return None
            index = seq - entries[0].seq
            if not (0 <= index < len(entries) and entries[index].seq == seq):
                # Calls processed on several threads may append slightly out of order.
                index = next((i for i, r in enumerate(entries) if r.seq == seq), -1)
                if index < 0:
                    return None
            entry = entries[index]
            if type(entry) is CallRecord:
                return entry
            record = entries[index] = record_of(entry)
            return record

    def _built(self) -> tuple[CallRecord, ...]:
        """Every entry's record, the pending ones built now and put in their entries' place (lock held).

        The record replaces its entry, so a journal once read holds records only, as if built at once.
        """
        if not self._unbuilt:
            return tuple(self._records)  # type: ignore[arg-type]
        records = tuple(map(record_of, self._records))
        self._records.clear()
        self._records.extend(records)
        self._unbuilt = False
        return records

    def __len__(self) -> int:
        return len(self._records)

    def clear(self, *, reset_seq: bool = False) -> None:
        """Forget the records. Sequence numbers continue unless `reset_seq` (a full reset)."""
        with self._lock:
            self._records.clear()
            self.dropped = 0
            if reset_seq:
                self._next_seq = 1
                self.total = 0

    def restore(self, records: list[CallRecord], next_seq: int, dropped: int) -> None:
        """Load records saved earlier (persistence)."""
        with self._lock:
            self._records.clear()
            self._records.extend(records)
            self._next_seq = next_seq
            self.dropped = dropped
            self.total = len(records) + dropped
