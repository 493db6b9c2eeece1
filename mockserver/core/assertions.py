"""Assertion helpers on a fake: assert_saved, assert_no_violations, wait_for_calls, wait_for.

Failure messages follow pytest-httpserver: what was expected, then the closest calls that
did arrive and, for each, exactly which field differed. A failure is an `ExpectationFailed`
(an AssertionError) that carries the same near misses as data: `POST /_assert` answers with
both, so the text over HTTP is the text in Python (http/expectations.py reads the JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any, TypeVar

from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.journal import CallList, CallLog
from mockserver.core.vocabulary.records import CallRecord

CLOSEST = 3  # how many near misses a failure message shows


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A call a failed assertion names: its seq, its line, and each field that differed (field, expected, got)."""

    seq: int
    call: str
    differences: tuple[tuple[str, str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "call": self.call,
            "differences": [{"field": f, "expected": e, "got": g} for f, e, g in self.differences],
        }


class ExpectationFailed(AssertionError):
    """An assertion of a fake that did not hold: the message, and the calls it names as data."""

    def __init__(self, message: str, near_misses: tuple[NearMiss, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.near_misses = near_misses


@dataclass(frozen=True, slots=True)
class Field:
    """One expectation of assert_saved: a name, how to show it, and how to read a record."""

    name: str
    shown: str
    read: Callable[[CallRecord], str]
    matches: Callable[[CallRecord], bool]


def _text(value: object) -> str:
    return "none" if value is None else repr(value)


def _sent(record: CallRecord, name: str, value: object) -> str:
    """What a call sent for a body property; a refused value is not bound, so its violation says what it was."""
    if value is None:
        for violation in record.violations:
            if violation.location == f"body.{name}" and violation.got:
                return violation.got
    return _text(value)


def _image_text(info: ImageInfo | None) -> str:
    if info is None:
        return "no image"
    return f"{info.size} bytes, {info.format or 'unrecognised format'}, sha256 {info.sha256[:12]}…"


def _outcome_text(record: CallRecord) -> str:
    if record.accepted:
        return f"accepted ({record.status})"
    first = record.violations[0].message if record.violations else "no violations listed"
    return f"rejected ({record.status}: {first})"


def call_line(record: CallRecord) -> str:
    """One line naming a call: ``#2 POST /api/v1/… -> 200 blob id 34``."""
    result = f"blob id {record.blob_id}" if record.blob_id is not None else record.outcome
    return f"#{record.seq} {record.method} {record.path} -> {record.status} {result}"


def expectations(
    type: str | None, description: str | None, image: bytes | None, blob_id: int | None, image_sha256: str | None = None
) -> list[Field]:
    fields = [Field("outcome", "accepted", _outcome_text, lambda r: r.accepted)]
    if type is not None:
        fields.append(
            Field(
                "Type", repr(type), lambda r: _sent(r, "Type", r.type), lambda r: (r.type or "").lower() == type.lower()
            )
        )
    if description is not None:
        fields.append(
            Field(
                "Description",
                repr(description),
                lambda r: _sent(r, "Description", r.description),
                lambda r: r.description == description,
            )
        )
    if image is not None:
        want = ImageInfo.of(image)
        fields.append(
            Field(
                "Image",
                _image_text(want),
                lambda r: _image_text(r.image),
                lambda r: r.image is not None and r.image.sha256 == want.sha256,
            )
        )
    if image_sha256 is not None:
        digest = image_sha256.lower()
        fields.append(
            Field(
                "Image",
                f"sha256 {digest[:12]}…",
                lambda r: _image_text(r.image),
                lambda r: r.image is not None and r.image.sha256 == digest,
            )
        )
    if blob_id is not None:
        fields.append(Field("blob_id", str(blob_id), lambda r: _text(r.blob_id), lambda r: r.blob_id == blob_id))
    return fields


def near_misses(calls: CallList, fields: list[Field]) -> tuple[str, tuple[NearMiss, ...]]:
    """The closest calls as text and as data, the text made from the data."""
    if not calls:
        return "No calls were recorded.", ()
    scored = [(sum(not f.matches(r) for f in fields), -r.seq, r) for r in calls]
    scored.sort(key=lambda item: (item[0], item[1]))
    misses = tuple(
        NearMiss(
            record.seq,
            call_line(record),
            tuple((f.name, f.shown, f.read(record)) for f in fields if not f.matches(record)),
        )
        for _, _, record in scored[:CLOSEST]
    )
    lines = [f"{len(calls)} call(s) recorded; the closest:"]
    for miss in misses:
        lines.append(f"  {miss.call}")
        lines.extend(f"      {name}: expected {shown}, got {got}" for name, shown, got in miss.differences)
    if len(calls) > CLOSEST:
        lines.append(f"  … and {len(calls) - CLOSEST} more (fake.calls has them all)")
    return "\n".join(lines), misses


def listed(records: CallList, kind: str) -> tuple[NearMiss, ...]:
    """The calls a listing names, as data: each violation or warning a difference from none."""
    return tuple(
        NearMiss(r.seq, call_line(r), tuple((v.location, "none", v.message) for v in getattr(r, kind))) for r in records
    )


def listing(head: str, records: CallList, kind: str, when_none: str | None = None) -> str:
    """One line per call, then its violations or warnings, indented under it."""
    lines = [head]
    for record in records:
        found = getattr(record, kind)
        lines.append(f"  {call_line(record)}")
        lines.extend(f"      {v.message}" for v in found)
        if not found and when_none:
            lines.append(when_none)
    return "\n".join(lines)


DEFAULT_WAIT = 5.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SaveQuery:
    """What `assert_saved` asks of an accepted save (each None: anything)."""

    type: str | None = None
    description: str | None = None
    image: bytes | None = None
    _: KW_ONLY
    blob_id: int | None = None
    count: int | None = None
    image_sha256: str | None = None


class SaveAssertions(ABC):
    """`assert_saved` and its waits: their arguments and meaning, written once for every kind of fake.

    The in-process `Fake` and `RemoteFake` (testing/remote.py) inherit these and say how a
    `SaveQuery` is checked: now (`_saved`), blocking until it holds (`_saved_within`), or awaited
    (`_saved_soon`). Each fails with the same `ExpectationFailed` text.
    """

    def assert_saved(
        self,
        type: str | None = None,
        description: str | None = None,
        image: bytes | None = None,
        *,
        blob_id: int | None = None,
        count: int | None = None,
        image_sha256: str | None = None,
    ) -> CallRecord:
        """Assert an accepted save with these values arrived; return the latest such call.

        `type` compares case-insensitively, `image` by content (sha256; or give `image_sha256`,
        the hex digest). With `count`, exactly that many matching calls must have arrived. The
        failure message lists the closest calls and the fields that differed.
        """
        __tracebackhide__ = True  # a failure shows the test's line and this message, not the library's source
        return self._saved(SaveQuery(type, description, image, blob_id=blob_id, count=count, image_sha256=image_sha256))

    async def wait_for(self, *args: Any, timeout: float = DEFAULT_WAIT, **expected: Any) -> CallRecord:
        """`assert_saved`, waiting up to `timeout` seconds for it to hold (a save made asynchronously).

        Takes `assert_saved`'s arguments; returns as soon as a matching call is recorded, and when
        the time is up fails with exactly the message `assert_saved` would give then.
        """
        __tracebackhide__ = True
        return await self._saved_soon(SaveQuery(*args, **expected), timeout)

    def wait_for_sync(self, *args: Any, timeout: float = DEFAULT_WAIT, **expected: Any) -> CallRecord:
        """`wait_for` blocking this thread: for sync tests with a threaded or served fake."""
        __tracebackhide__ = True
        return self._saved_within(SaveQuery(*args, **expected), timeout)

    @abstractmethod
    def _saved(self, query: SaveQuery) -> CallRecord:
        """The latest accepted save matching `query`, or ExpectationFailed."""

    @abstractmethod
    async def _saved_soon(self, query: SaveQuery, timeout: float) -> CallRecord:
        """`_saved`, awaited until it holds or `timeout` seconds pass."""

    @abstractmethod
    def _saved_within(self, query: SaveQuery, timeout: float) -> CallRecord:
        """`_saved`, blocking until it holds or `timeout` seconds pass."""


class Assertions(SaveAssertions):
    """The assertions a fake offers over its journal (`Fake` hands its own methods on to these)."""

    def __init__(self, journal: CallLog) -> None:
        self.journal = journal

    @property
    def calls(self) -> CallList:
        return self.journal.snapshot()

    def _saved(self, query: SaveQuery) -> CallRecord:
        __tracebackhide__ = True
        q = query
        fields = expectations(q.type, q.description, q.image, q.blob_id, q.image_sha256)
        # Only saves: ChangePersonImage and GetBlobStream records carry a blob id too.
        calls = self.calls.filter(operation="SaveImageStream")
        matched = calls.filter(lambda r: all(f.matches(r) for f in fields))
        width = max(len(f.name) for f in fields)
        wanted = "\n".join(f"  {f.name:<{width}} = {f.shown}" for f in fields)
        if q.count is not None and len(matched) != q.count:
            seqs = ", ".join(f"#{r.seq}" for r in matched) or "none"
            text, misses = near_misses(calls, fields)
            raise ExpectationFailed(
                f"Expected {q.count} accepted save(s) with:\n{wanted}\nbut {len(matched)} matched ({seqs}).\n{text}",
                misses,
            )
        if not matched:
            text, misses = near_misses(calls, fields)
            raise ExpectationFailed(f"Expected an accepted save with:\n{wanted}\nbut none arrived.\n{text}", misses)
        return matched.last

    async def _saved_soon(self, query: SaveQuery, timeout: float) -> CallRecord:
        return await self.until(lambda: self._saved(query), timeout)

    def _saved_within(
        self, query: SaveQuery, timeout: float, serving_loop: asyncio.AbstractEventLoop | None = None
    ) -> CallRecord:
        return self.until_sync(lambda: self._saved(query), timeout, serving_loop)

    def assert_no_violations(self) -> None:
        """Assert no call was rejected; the message lists every violation of every rejected call."""
        __tracebackhide__ = True
        rejected = self.calls.rejected
        if rejected:
            head = f"Expected no rejected calls, but {len(rejected)} of {len(self.calls)} were rejected:"
            raise ExpectationFailed(
                listing(head, rejected, "violations", "      (no violations listed)"), listed(rejected, "violations")
            )

    def assert_no_warnings(self) -> None:
        """Assert no call drew a warning (what `strict=True` would have rejected)."""
        __tracebackhide__ = True
        warned = self.calls.filter(lambda r: bool(r.warnings))
        if warned:
            head = f"Expected no warnings, but {len(warned)} of {len(self.calls)} calls had some:"
            raise ExpectationFailed(listing(head, warned, "warnings"), listed(warned, "warnings"))

    async def wait_for_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Wait until at least `n` calls (matching `filters`, as for `calls.filter`) are recorded.

        Works whether the fake serves in this loop or from a thread. Returns the matching calls;
        raises AssertionError naming what did arrive when `timeout` seconds pass first.
        """
        __tracebackhide__ = True
        return await self.until(lambda: self.check_calls(n, timeout, **filters), timeout)

    def wait_for_calls_sync(
        self,
        n: int = 1,
        timeout: float = DEFAULT_WAIT,
        *,
        serving_loop: asyncio.AbstractEventLoop | None = None,
        **filters: Any,
    ) -> CallList:
        """Block until at least `n` calls are recorded: for sync tests with a threaded fake."""
        __tracebackhide__ = True
        return self.until_sync(lambda: self.check_calls(n, timeout, **filters), timeout, serving_loop)

    def check_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """At least `n` calls matching `filters` are recorded now, or ExpectationFailed (what waiting checks)."""
        found = self.calls.filter(**filters)
        if len(found) < n:
            recent = list(self.calls)[-5:]
            misses = tuple(NearMiss(r.seq, call_line(r)) for r in recent)
            raise ExpectationFailed(self._wait_failure(n, timeout, filters, found), misses)
        return found

    async def until(self, check: Callable[[], T], timeout: float) -> T:
        """Run `check` now and after every new call until it passes; its last failure once `timeout` passes.

        Works whether the fake serves in this loop or from a thread: a new call wakes the wait.
        """
        loop = asyncio.get_running_loop()
        arrived = asyncio.Event()
        journal = self.journal

        def wake(_record: CallRecord) -> None:
            loop.call_soon_threadsafe(arrived.set)

        journal.subscribe(wake)
        deadline = loop.time() + timeout
        try:
            while True:
                arrived.clear()  # before looking, so a call landing in between still wakes us
                try:
                    return check()
                except AssertionError:
                    if loop.time() >= deadline:
                        raise
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), deadline - loop.time())
        finally:
            journal.unsubscribe(wake)

    def until_sync(
        self, check: Callable[[], T], timeout: float, serving_loop: asyncio.AbstractEventLoop | None = None
    ) -> T:
        """`until` blocking this thread; `serving_loop` answers the fake's requests: waiting in it would block it."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is serving_loop:
            raise RuntimeError("this fake serves in the running event loop; use 'await fake.wait_for_calls(...)'")

        def holds(_calls: CallList) -> bool:
            try:
                check()
            except AssertionError:
                return False
            return True

        self.journal.wait_until(holds, timeout)
        return check()

    def _wait_failure(self, n: int, timeout: float, filters: dict[str, Any], found: CallList) -> str:
        what = ", ".join(f"{k}={v!r}" for k, v in filters.items())
        wanted = f"{n} call(s) with {what}" if what else f"{n} call(s)"
        lines = [f"Expected {wanted} within {timeout:g} s, but {len(found)} arrived."]
        others = self.calls
        if others:
            lines.append("Calls recorded:")
            lines.extend(f"  {call_line(r)}" for r in list(others)[-5:])
        else:
            lines.append("No calls were recorded.")
        return "\n".join(lines)
