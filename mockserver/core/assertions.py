"""Assertion helpers on a fake: assert_saved, assert_no_violations, wait_for_calls.

Failure messages follow pytest-httpserver: what was expected, then the closest calls that
did arrive and, for each, exactly which field differed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.journal import CallList, CallLog
from mockserver.core.vocabulary.records import CallRecord

CLOSEST = 3  # how many near misses a failure message shows
DEFAULT_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class _Field:
    """One expectation of assert_saved: a name, how to show it, and how to read a record."""

    name: str
    shown: str
    read: Callable[[CallRecord], str]
    matches: Callable[[CallRecord], bool]


def _text(value: object) -> str:
    return "none" if value is None else repr(value)


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


def _expectations(type: str | None, description: str | None, image: bytes | None, blob_id: int | None) -> list[_Field]:
    fields = [_Field("outcome", "accepted", _outcome_text, lambda r: r.accepted)]
    if type is not None:
        fields.append(
            _Field("Type", repr(type), lambda r: _text(r.type), lambda r: (r.type or "").lower() == type.lower())
        )
    if description is not None:
        fields.append(
            _Field(
                "Description", repr(description), lambda r: _text(r.description), lambda r: r.description == description
            )
        )
    if image is not None:
        want = ImageInfo.of(image)
        fields.append(
            _Field(
                "Image",
                _image_text(want),
                lambda r: _image_text(r.image),
                lambda r: r.image is not None and r.image.sha256 == want.sha256,
            )
        )
    if blob_id is not None:
        fields.append(_Field("blob_id", str(blob_id), lambda r: _text(r.blob_id), lambda r: r.blob_id == blob_id))
    return fields


def _near_misses(calls: CallList, fields: list[_Field]) -> str:
    if not calls:
        return "No calls were recorded."
    scored = [(sum(not f.matches(r) for f in fields), -r.seq, r) for r in calls]
    scored.sort(key=lambda item: (item[0], item[1]))
    lines = [f"{len(calls)} call(s) recorded; the closest:"]
    for _, _, record in scored[:CLOSEST]:
        lines.append(f"  {call_line(record)}")
        for f in fields:
            if not f.matches(record):
                lines.append(f"      {f.name}: expected {f.shown}, got {f.read(record)}")
    if len(calls) > CLOSEST:
        lines.append(f"  … and {len(calls) - CLOSEST} more (fake.calls has them all)")
    return "\n".join(lines)


class Assertions:
    """The assertions a fake offers over its journal (`Fake` hands its own methods on to these)."""

    def __init__(self, journal: CallLog) -> None:
        self.journal = journal

    @property
    def calls(self) -> CallList:
        return self.journal.snapshot()

    def assert_saved(
        self,
        type: str | None = None,
        description: str | None = None,
        image: bytes | None = None,
        *,
        blob_id: int | None = None,
        count: int | None = None,
    ) -> CallRecord:
        """Assert an accepted save with these values arrived; return the latest such call.

        `type` compares case-insensitively, `image` by content (sha256). With `count`, exactly
        that many matching calls must have arrived.
        """
        fields = _expectations(type, description, image, blob_id)
        # Only saves: ChangePersonImage and GetBlobStream records carry a blob id too.
        calls = self.calls.filter(operation="SaveImageStream")
        matched = calls.filter(lambda r: all(f.matches(r) for f in fields))
        width = max(len(f.name) for f in fields)
        wanted = "\n".join(f"  {f.name:<{width}} = {f.shown}" for f in fields)
        if count is not None and len(matched) != count:
            seqs = ", ".join(f"#{r.seq}" for r in matched) or "none"
            raise AssertionError(
                f"Expected {count} accepted save(s) with:\n{wanted}\n"
                f"but {len(matched)} matched ({seqs}).\n{_near_misses(calls, fields)}"
            )
        if not matched:
            raise AssertionError(
                f"Expected an accepted save with:\n{wanted}\nbut none arrived.\n{_near_misses(calls, fields)}"
            )
        return matched.last

    def assert_no_violations(self) -> None:
        """Assert no call was rejected; the message lists every violation of every rejected call."""
        rejected = self.calls.rejected
        if rejected:
            head = f"Expected no rejected calls, but {len(rejected)} of {len(self.calls)} were rejected:"
            raise AssertionError(_listing(head, rejected, "violations", "      (no violations listed)"))

    def assert_no_warnings(self) -> None:
        """Assert no call drew a warning (what `strict=True` would have rejected)."""
        warned = self.calls.filter(lambda r: bool(r.warnings))
        if warned:
            head = f"Expected no warnings, but {len(warned)} of {len(self.calls)} calls had some:"
            raise AssertionError(_listing(head, warned, "warnings"))

    async def wait_for_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Wait until at least `n` calls (matching `filters`, as for `calls.filter`) are recorded.

        Works whether the fake serves in this loop or from a thread. Returns the matching calls;
        raises AssertionError naming what did arrive when `timeout` seconds pass first.
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
                found = self.calls.filter(**filters)
                if len(found) >= n:
                    return found
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(self._wait_failure(n, timeout, filters, found))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), remaining)
        finally:
            journal.unsubscribe(wake)

    def wait_for_calls_sync(
        self,
        n: int = 1,
        timeout: float = DEFAULT_WAIT,
        *,
        serving_loop: asyncio.AbstractEventLoop | None = None,
        **filters: Any,
    ) -> CallList:
        """Block until at least `n` calls are recorded: for sync tests with a threaded fake.

        `serving_loop` is the loop that answers the fake's requests: waiting in it would block it.
        """
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is serving_loop:
            raise RuntimeError("this fake serves in the running event loop; use 'await fake.wait_for_calls(...)'")
        self.journal.wait_until(lambda calls: len(calls.filter(**filters)) >= n, timeout)
        found = self.calls.filter(**filters)
        if len(found) < n:
            raise AssertionError(self._wait_failure(n, timeout, filters, found))
        return found

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


def _listing(head: str, records: CallList, kind: str, when_none: str | None = None) -> str:
    """One line per call, then its violations or warnings, indented under it."""
    lines = [head]
    for record in records:
        found = getattr(record, kind)
        lines.append(f"  {call_line(record)}")
        lines.extend(f"      {v.message}" for v in found)
        if not found and when_none:
            lines.append(when_none)
    return "\n".join(lines)
