"""The journal: the call log a fake appends to, bounded in records and bytes; its views are `CallList`s (calls.py)."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable

from mockserver.core.vocabulary.bounds import RECORD_CAP, bounded, weight
from mockserver.core.vocabulary.budget import Budget
from mockserver.core.vocabulary.calls import CallList
from mockserver.core.vocabulary.records import CallRecord, Pending, record_of

DEFAULT_JOURNAL_LIMIT = 10_000
DEFAULT_JOURNAL_BUDGET = 64 * 1024 * 1024


class CallLog:
    """The journal: records in arrival order, at most `limit` kept (0 = unbounded), within a byte budget.

    Each record holds at most `bounds.RECORD_CAP` bytes (a heavier one is cut down as it is
    journaled, bounds.py), and all records together at most the `budget`'s bytes: past either
    bound the oldest records go, counted in `dropped`. The budget may be shared with other
    journals (a fake's tenants, budget.py); the newest record of them all always stays.

    An entry may arrive `Pending` (exchange.CallFacts): its record is built on the first read, under
    the lock, and takes the entry's place; one that falls out unread is never built.
    """

    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT, budget: Budget | None = None) -> None:
        if limit < 0:
            raise ValueError(f"journal limit must be 0 (unbounded) or more (got {limit})")
        self.limit = limit
        self._records: deque[CallRecord | Pending] = deque()
        self._weights: deque[int] = deque()  # each entry's bytes (bounds.weight), in step with _records
        self.held = 0  # the bytes of the records kept, what the budget counts
        self.budget = budget if budget is not None else Budget(DEFAULT_JOURNAL_BUDGET)
        self.budget.join(self)
        self._lock = self.budget.lock
        self._next_seq = 1
        self.dropped = 0
        self.total = 0
        self._listeners: list[Callable[[CallRecord], None]] = []
        # Separate from _lock so a waiter's predicate may take snapshots while it holds this one.
        self._changed = threading.Condition()
        self._waiting = 0  # waiters inside wait_until: append skips the Condition when there are none
        self._unbuilt = False  # some entry may still be pending

    def share(self, budget: Budget) -> None:
        """Count this journal's bytes against `budget` from now on (a fake's journals share one)."""
        with self._lock:
            self.budget.leave(self)
            self.budget = budget
            budget.join(self)
            self._lock = budget.lock
        with self._lock:
            budget.settle()

    def next_seq(self) -> int:
        """Reserve the next sequence number."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def append(self, entry: CallRecord | Pending) -> None:
        """Journal one call, dropping the oldest past the limit or the budget.

        A pending entry not numbered yet (seq 0: the fake's own calls) takes the next sequence
        number here. One numbered already (its seq reserved with `next_seq`, as the proxy does) goes
        in seq order: with several threads calling the core, a record can arrive after a later one,
        and `get` relies on the order. An entry over `RECORD_CAP` is built and cut down here.
        """
        with self._lock:
            if entry.seq == 0 and isinstance(entry, Pending):
                entry.seq = self._next_seq
                self._next_seq += 1
            kept, size = _admitted(entry)
            records, weights = self._records, self._weights
            if records and records[-1].seq > kept.seq:
                later = []
                while records and records[-1].seq > kept.seq:
                    later.append((records.pop(), weights.pop()))
                records.append(kept)
                weights.append(size)
                for earlier, earlier_size in reversed(later):
                    records.append(earlier)
                    weights.append(earlier_size)
            else:
                records.append(kept)
                weights.append(size)
            if type(kept) is not CallRecord:
                self._unbuilt = True
            self.total += 1
            self._fit(size)
        self._appended(entry)

    def _fit(self, size: int) -> None:
        """Count a new entry's bytes; drop the oldest past the limit, and whatever the budget asks (lock held)."""
        self.budget.newest = self
        self.budget.charge(self, size)
        if self.limit and len(self._records) > self.limit:
            self._drop_oldest()
        if self.budget.limit and self.budget.held > self.budget.limit:
            self.budget.settle()

    def _drop_oldest(self) -> None:
        self._records.popleft()
        self.budget.charge(self, -self._weights.popleft())
        self.dropped += 1

    def shed(self) -> bool:
        """Drop the oldest record for the budget; the newest of all journals sharing it stays (lock held)."""
        if len(self._records) <= (self.budget.newest is self):
            return False
        self._drop_oldest()
        return True

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
            self._weights.clear()
            self.budget.charge(self, -self.held)
            self.dropped = 0
            if reset_seq:
                self._next_seq = 1
                self.total = 0

    def restore(self, records: list[CallRecord], next_seq: int, dropped: int) -> None:
        """Load records saved earlier (persistence)."""
        with self._lock:
            self._records.clear()
            self._weights.clear()
            self.budget.charge(self, -self.held)
            self.dropped = dropped
            self.total = len(records) + dropped
            for record in records:
                kept, size = _admitted(record)
                self._records.append(kept)
                self._weights.append(size)
                self._fit(size)
            self._next_seq = next_seq


def kept_record(entry: CallRecord | Pending) -> CallRecord:
    """The record of `entry` as a journal keeps it: built now, and cut down to `RECORD_CAP` if heavier."""
    kept = _admitted(entry)[0]
    return record_of(kept)


def _admitted(entry: CallRecord | Pending) -> tuple[CallRecord | Pending, int]:
    """The entry as the journal keeps it, and its bytes: one over `RECORD_CAP` is built and cut down now.

    A pending entry that is cut keeps the cut record as its own, so whoever else reads it (the
    log, the HTTP shell) sees what the journal shows.
    """
    size = weight(entry)
    if size <= RECORD_CAP:
        return entry, size
    record = bounded(record_of(entry))
    if type(entry) is not CallRecord:
        entry._record = record  # type: ignore[union-attr]
    return record, weight(record)


__all__ = ["DEFAULT_JOURNAL_BUDGET", "DEFAULT_JOURNAL_LIMIT", "CallList", "CallLog", "kept_record"]
