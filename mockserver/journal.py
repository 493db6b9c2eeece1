"""Call records, the bounded call log, and list helpers for assertions."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, overload

from .errors import Violation
from .images import ImageInfo
from .slots import slots_constructor

DEFAULT_JOURNAL_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """Who a call claimed to be: the scheme and principal, never the secret."""

    scheme: str | None = None
    principal: str | None = None
    credential: str | None = None  # password, ticket, token or xsrf

    def to_json(self) -> dict[str, str | None]:
        return {"scheme": self.scheme, "principal": self.principal, "credential": self.credential}


@dataclass(frozen=True, slots=True)
class Locale:
    """The effective language, culture and timezone settings of a call."""

    language: str | None = None
    culture: str | None = None
    timezone: str | None = None
    include_tz_offset: bool = False
    browser_tz_offset: int | None = None
    app_token: bool = False
    translate: bool = True  # SO-Language `*` or `x` turns translation off

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "translate": self.translate,
            "culture": self.culture,
            "timezone": self.timezone,
            "include_tz_offset": self.include_tz_offset,
            "browser_tz_offset": self.browser_tz_offset,
            "app_token": self.app_token,
        }


NO_AUTH = AuthInfo()
NO_LOCALE = Locale()


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One request the fake received and how it answered. Immutable.

    `request` maps canonical property names to bound values; bytes properties hold an
    `ImageInfo` (size, sha256, format) — the bytes themselves live once in the image store.
    """

    seq: int
    time: float
    method: str
    path: str
    prefix: str
    operation: str | None
    query: tuple[tuple[str, str], ...]
    select: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    auth: AuthInfo
    locale: Locale
    request: Mapping[str, Any]
    status: int
    blob_id: int | None
    violations: tuple[Violation, ...]
    warnings: tuple[Violation, ...]
    content_type: str | None = None
    response_type: str | None = None
    result: Any = None
    fault: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def outcome(self) -> str:
        return "accepted" if self.accepted else "rejected"

    @property
    def type(self) -> str | None:
        value = self.request.get("Type")
        return value if isinstance(value, str) else None

    @property
    def description(self) -> str | None:
        value = self.request.get("Description")
        return value if isinstance(value, str) else None

    @property
    def image(self) -> ImageInfo | None:
        value = self.request.get("Image")
        return value if isinstance(value, ImageInfo) else None

    def header(self, name: str) -> str | None:
        """Return the first value of a header (case-insensitive), secrets redacted."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def to_json(self) -> dict[str, Any]:
        request: dict[str, Any] = {}
        for key, value in self.request.items():
            if isinstance(value, ImageInfo):
                request[key.lower()] = value.to_json()
            else:
                request[key] = value
        return {
            "seq": self.seq,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.method,
            "path": self.path,
            "prefix": self.prefix,
            "operation": self.operation,
            "query": [list(p) for p in self.query],
            "select": list(self.select),
            "headers": [list(p) for p in self.headers],
            "status": self.status,
            "outcome": self.outcome,
            "blob_id": self.blob_id,
            "request": request,
            "auth": self.auth.to_json(),
            "locale": self.locale.to_json(),
            "content_type": self.content_type,
            "response_type": self.response_type,
            "violations": [v.to_json() for v in self.violations],
            "warnings": [v.to_json() for v in self.warnings],
            "fault": self.fault,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


# The core builds one per call: through the slots' descriptors (see slots.py).
new_record = slots_constructor(CallRecord)


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
    """The journal: records in arrival order, at most `limit` kept (0 = unbounded)."""

    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        if limit < 0:
            raise ValueError(f"journal limit must be 0 (unbounded) or more (got {limit})")
        self.limit = limit
        self._records: deque[CallRecord] = deque(maxlen=limit or None)
        self._lock = threading.Lock()
        self._next_seq = 1
        self.dropped = 0
        self.total = 0
        self._listeners: list[Callable[[CallRecord], None]] = []
        # Separate from _lock so a waiter's predicate may take snapshots while it holds this one.
        self._changed = threading.Condition()
        self._waiting = 0  # waiters inside wait_until: append skips the Condition when there are none

    def next_seq(self) -> int:
        """Reserve the next sequence number."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def append(self, record: CallRecord) -> None:
        with self._lock:
            if self.limit and len(self._records) == self.limit:
                self.dropped += 1
            # A seq is reserved before its record is built, so with several threads calling the core a
            # record can arrive after a later one: put it back in seq order (get() relies on it).
            later = []
            while self._records and self._records[-1].seq > record.seq:
                later.append(self._records.pop())
            self._records.append(record)
            self._records.extend(reversed(later))
            self.total += 1
        # A waiter counts itself in before its first look at the records, so one that is not yet
        # counted here sees this record without being woken.
        if self._waiting:
            with self._changed:
                self._changed.notify_all()
        if self._listeners:
            for listener in tuple(self._listeners):
                listener(record)

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
            return CallList(tuple(r for r in self._records if r.seq > seq))

    def snapshot(self) -> CallList:
        with self._lock:
            return CallList(tuple(self._records))

    def get(self, seq: int) -> CallRecord | None:
        with self._lock:
            if not self._records:
                return None
            first = self._records[0].seq
            index = seq - first
            if 0 <= index < len(self._records) and self._records[index].seq == seq:
                return self._records[index]
            # Calls processed on several threads may append slightly out of order.
            return next((r for r in self._records if r.seq == seq), None)

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
