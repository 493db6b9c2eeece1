"""Holding a /_ request until a call arrives: ``/_calls?wait=`` and ``/_assert``'s ``wait``.

Bounded in time (`expectations.MAX_WAIT`) and in number: at most `MAX_WAITERS` requests wait
at once per served fake; one more is answered 429 at once, so waiting clients cannot hold the
fake's connections or memory hostage. A wait ends early when the server shuts down or the
client hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from ..core.vocabulary.errors import ApiError, Violation
from ..core.vocabulary.journal import CallLog
from ..core.vocabulary.records import CallRecord

MAX_WAITERS = 64  # requests waiting at once, per served app
POLL = 0.25  # seconds between looks at the client's connection and the server's shutdown


@dataclass
class _Waits:
    count: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)


_WAITS: weakref.WeakKeyDictionary[web.Application, _Waits] = weakref.WeakKeyDictionary()


def _waits(app: web.Application) -> _Waits:
    waits = _WAITS.get(app)
    if waits is None:
        waits = _WAITS[app] = _Waits()
    return waits


async def stop_waiting(app: web.Application) -> None:
    """On shutdown: every held request answers with what it has, so closing does not wait for them."""
    _waits(app).closing.set()


def waiting_now(app: web.Application) -> int:
    """How many requests of `app` are waiting now."""
    return _waits(app).count


@contextlib.contextmanager
def _held(request: web.Request, location: str) -> Iterator[_Waits]:
    waits = _waits(request.app)
    limit = MAX_WAITERS
    if waits.count >= limit:
        raise ApiError(
            429,
            [Violation(location, f"at most {limit} requests waiting at once", f"{waits.count} already waiting")],
            headers={"Retry-After": "1"},
            message=f"{waits.count} requests are already waiting for calls; retry, or ask without wait.",
        )
    waits.count += 1
    try:
        yield waits
    finally:
        waits.count -= 1


async def wait_until(
    request: web.Request, journals: Sequence[CallLog], ready: Callable[[], bool], seconds: float, location: str
) -> bool:
    """True as soon as `ready()` holds (looked at now and after each new call); False once `seconds` pass.

    `location` names the parameter in the 429 when too many requests wait already.
    """
    if ready():
        return True
    if seconds <= 0:
        return False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    arrived = asyncio.Event()

    def wake(_record: CallRecord) -> None:
        loop.call_soon_threadsafe(arrived.set)

    with _held(request, location) as waits:
        for journal in journals:
            journal.subscribe(wake)
        try:
            while True:
                arrived.clear()  # before looking, so a call landing in between still wakes us
                if ready():
                    return True
                left = deadline - loop.time()
                transport = request.transport
                if left <= 0 or waits.closing.is_set() or transport is None or transport.is_closing():
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), min(left, POLL))
        finally:
            for journal in journals:
                journal.unsubscribe(wake)
