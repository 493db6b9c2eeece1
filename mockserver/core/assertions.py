"""Assertion helpers on a fake: assert_saved, assert_no_violations, wait_for_calls, wait_for.

Failure messages follow pytest-httpserver: what was expected, then the closest calls that
did arrive and, for each, exactly which field differed. A failure is an `ExpectationFailed`
(an AssertionError) that carries the same near misses as data: `POST /_assert` answers with
both, so the text over HTTP is the text in Python (core/expectations.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from mockserver.core.misses import ExpectationFailed, NearMiss, call_line, expectations, listed, listing, near_misses
from mockserver.core.vocabulary.journal import CallList
from mockserver.core.vocabulary.records import CallRecord

if TYPE_CHECKING:
    from mockserver.core.storage.state import State

DEFAULT_WAIT = 5.0
T = TypeVar("T")


class Assertions:
    """Mixed into `Fake`; every method reads `self.calls` and `self.state.journal`."""

    state: State
    # The event loop that answers this fake's requests; set by the server that serves it.
    serving_loop: asyncio.AbstractEventLoop | None = None

    @property
    def calls(self) -> CallList:  # overridden by Fake; declared for the type checker
        raise NotImplementedError

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
        the hex digest). With `count`, exactly that many matching calls must have arrived.
        """
        fields = expectations(type, description, image, blob_id, image_sha256)
        # Only saves: ChangePersonImage and GetBlobStream records carry a blob id too.
        calls = self.calls.filter(operation="SaveImageStream")
        matched = calls.filter(lambda r: all(f.matches(r) for f in fields))
        width = max(len(f.name) for f in fields)
        wanted = "\n".join(f"  {f.name:<{width}} = {f.shown}" for f in fields)
        if count is not None and len(matched) != count:
            seqs = ", ".join(f"#{r.seq}" for r in matched) or "none"
            text, misses = near_misses(calls, fields)
            raise ExpectationFailed(
                f"Expected {count} accepted save(s) with:\n{wanted}\nbut {len(matched)} matched ({seqs}).\n{text}",
                misses,
            )
        if not matched:
            text, misses = near_misses(calls, fields)
            raise ExpectationFailed(f"Expected an accepted save with:\n{wanted}\nbut none arrived.\n{text}", misses)
        return matched.last

    def assert_no_violations(self) -> None:
        """Assert no call was rejected; the message lists every violation of every rejected call."""
        rejected = self.calls.rejected
        if rejected:
            head = f"Expected no rejected calls, but {len(rejected)} of {len(self.calls)} were rejected:"
            raise ExpectationFailed(
                listing(head, rejected, "violations", "      (no violations listed)"), listed(rejected, "violations")
            )

    def assert_no_warnings(self) -> None:
        """Assert no call drew a warning (what `strict=True` would have rejected)."""
        warned = self.calls.filter(lambda r: bool(r.warnings))
        if warned:
            head = f"Expected no warnings, but {len(warned)} of {len(self.calls)} calls had some:"
            raise ExpectationFailed(listing(head, warned, "warnings"), listed(warned, "warnings"))

    async def wait_for_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Wait until at least `n` calls (matching `filters`, as for `calls.filter`) are recorded.

        Works whether the fake serves in this loop or from a thread. Returns the matching calls;
        raises AssertionError naming what did arrive when `timeout` seconds pass first.
        """
        return await self.until(lambda: self.check_calls(n, timeout, **filters), timeout)

    def wait_for_calls_sync(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Block until at least `n` calls are recorded: for sync tests with a threaded fake."""
        return self.until_sync(lambda: self.check_calls(n, timeout, **filters), timeout)

    async def wait_for(
        self,
        type: str | None = None,
        description: str | None = None,
        image: bytes | None = None,
        *,
        blob_id: int | None = None,
        count: int | None = None,
        image_sha256: str | None = None,
        timeout: float = DEFAULT_WAIT,
    ) -> CallRecord:
        """`assert_saved`, waiting up to `timeout` seconds for it to hold (a save made asynchronously).

        Returns as soon as a matching call is recorded; when the time is up, fails with exactly
        the message `assert_saved` would give then.
        """
        return await self.until(
            lambda: self.assert_saved(
                type, description, image, blob_id=blob_id, count=count, image_sha256=image_sha256
            ),
            timeout,
        )

    def wait_for_sync(
        self,
        type: str | None = None,
        description: str | None = None,
        image: bytes | None = None,
        *,
        blob_id: int | None = None,
        count: int | None = None,
        image_sha256: str | None = None,
        timeout: float = DEFAULT_WAIT,
    ) -> CallRecord:
        """`wait_for` blocking this thread: for sync tests with a threaded fake."""
        return self.until_sync(
            lambda: self.assert_saved(
                type, description, image, blob_id=blob_id, count=count, image_sha256=image_sha256
            ),
            timeout,
        )

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
        journal = self.state.journal

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

    def until_sync(self, check: Callable[[], T], timeout: float) -> T:
        """`until` blocking this thread (never the thread whose loop serves this fake)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self.serving_loop:
            raise RuntimeError("this fake serves in the running event loop; use 'await fake.wait_for_calls(...)'")

        def holds(_calls: CallList) -> bool:
            try:
                check()
            except AssertionError:
                return False
            return True

        self.state.journal.wait_until(holds, timeout)
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
