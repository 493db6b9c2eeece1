"""Reading a request body within the limits, as IIS would: 413 past the size limit, 400 for a body cut short.

Nothing here waits for a body before the header steps have passed (`Fake.precheck`): a request
refused for its headers has nothing more of its body read or reserved. Only a body that arrived
whole with the headers is taken at once (`take_buffered`): it is here already. The buffer grows with what
arrives, never with what Content-Length declares, so a lying Content-Length reserves nothing;
and every body being read shares one budget (``max_body_memory``): past it, a 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from aiohttp import HttpVersion11, web

from ..core.config import BODY_RATE_GRACE
from ..core.vocabulary.errors import ApiError, Violation

# Seconds to wait for the next body bytes before giving up with a 400, as http.sys's EntityBody
# timer does: a stalled client or a chunk aiohttp could not parse would otherwise hold a handler forever.
BODY_IDLE_TIMEOUT = 120.0
# Told to a client refused for want of room: the bodies in progress are usually done by then.
BUSY_RETRY_AFTER = "1"
# A body of at most SMALL_BODY bytes may also use the last 1/SMALL_RESERVE_SHARE of the budget,
# which larger bodies may not: stalled uploads filling the budget never starve the usual small save.
SMALL_BODY = 64 * 1024
SMALL_RESERVE_SHARE = 16
# Statuses after which the rest of the body is not read: the connection is closed with the answer.
HANG_UP = frozenset({408, 413, 503})


class BodyBudget:
    """The bytes held by request bodies being read or processed, across every connection of one app.

    Bodies past `SMALL_BODY` may hold at most `limit - reserve` together; the reserve is for small
    ones. It never shrinks that room below `largest`: one body of the largest size always fits.
    """

    __slots__ = ("held", "limit", "reserve")

    def __init__(self, limit: int, largest: int = 0) -> None:
        self.limit = limit
        self.reserve = max(min(limit // SMALL_RESERVE_SHARE, limit - largest), 0)
        self.held = 0


BUDGET_KEY: web.AppKey[BodyBudget] = web.AppKey("body_budget", BodyBudget)


class Hold:
    """What one request has taken from the budget, given back in one go when it is done."""

    __slots__ = ("budget", "taken")

    def __init__(self, budget: BodyBudget) -> None:
        self.budget = budget
        self.taken = 0

    def take(self, size: int) -> bool:
        budget = self.budget
        room = budget.limit if self.taken + size <= SMALL_BODY else budget.limit - budget.reserve
        if budget.held + size > room:
            return False
        budget.held += size
        self.taken += size
        return True

    def release(self) -> None:
        self.budget.held -= self.taken
        self.taken = 0


class TooSlow(Exception):
    """The body fell behind `min_body_rate`."""


class Pace:
    """When the next body bytes must have come: within BODY_IDLE_TIMEOUT of the last ones, and
    (with a `min_rate`) soon enough that the body averages at least that many bytes a second
    once BODY_RATE_GRACE has passed. A trickle of a byte a minute holds a body's share of the
    budget for minutes, not hours."""

    __slots__ = ("min_rate", "started")

    def __init__(self, min_rate: int) -> None:
        self.min_rate = min_rate
        self.started = asyncio.get_running_loop().time()

    async def next(self, read: Awaitable[bytes], received: int) -> bytes:
        if self.min_rate <= 0:
            async with asyncio.timeout(BODY_IDLE_TIMEOUT):
                return await read
        now = asyncio.get_running_loop().time()
        behind = self.started + BODY_RATE_GRACE + received / self.min_rate - now
        wait = min(BODY_IDLE_TIMEOUT, max(behind, 0.0))
        try:
            async with asyncio.timeout(wait):
                return await read
        except TimeoutError:
            if wait < BODY_IDLE_TIMEOUT:
                raise TooSlow from None
            raise

    def elapsed(self) -> float:
        return asyncio.get_running_loop().time() - self.started


def declared_too_large(request: web.Request, limit: int) -> ApiError | None:
    """The 413 for a Content-Length past `limit`: known from the headers, before anything else."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return _too_large(limit, f"Content-Length {declared}")
    return None


def take_buffered(request: web.Request, hold: Hold) -> bytes | None:
    """The whole body when it arrived with the headers and fits the budget; None: `read_body` must read it.

    The usual small request: no 100 Continue to send, nothing to await, no timer to arm.
    """
    declared = request.content_length
    if declared is None or expects_continue(request):
        return None
    stream = request.content
    # At its end, nothing read yet, every declared byte here: the buffer holds the whole body.
    if not stream.is_eof() or stream.total_bytes != declared or stream.exception() is not None:
        return None
    if not hold.take(declared):
        return None  # read_body answers 503, as for any body past the budget
    return stream.read_nowait(-1)


async def read_body(
    request: web.Request, limit: int, hold: Hold, min_rate: int = 0
) -> tuple[bytes | bytearray, ApiError | None]:
    """Read the body up to `limit` bytes, taking what arrives from the budget as it arrives.

    Past `limit` stop reading and report 413; past the budget, 503; behind `min_rate` bytes a
    second (`Pace`), 408. On any failure the buffer is emptied at once, so an abandoned request
    gives its memory back before its answer is written.
    """
    stream = request.content
    declared = request.content_length
    buf = bytearray()
    pace = Pace(min_rate)
    try:
        # A small body has usually arrived with the headers: take it whole, without arming a timer.
        first = stream.read_nowait(-1)
        if declared is not None and len(first) == declared:
            return (first, None) if hold.take(declared) else (b"", _busy(hold.budget))
        chunk = first
        del first
        while True:
            if chunk:
                if len(buf) + len(chunk) > limit:
                    buf.clear()
                    return b"", _too_large(limit, f"more than {limit} bytes (chunked)")
                if not hold.take(len(chunk)):
                    buf.clear()
                    return b"", _busy(hold.budget)
                buf += chunk
            if stream.at_eof():
                break
            chunk = await pace.next(stream.readany(), len(buf))
            if not chunk:  # the end: a short one is caught below
                break
    except TooSlow:
        received = len(buf)
        buf.clear()
        return b"", _too_slow(min_rate, received, pace.elapsed())
    except Exception as exc:  # the client went away, stalled, or sent a chunk aiohttp could not parse
        # The stream keeps this exception: its traceback would keep this frame, and so `buf`, alive.
        exc.__traceback__ = None
        buf.clear()
        return b"", _truncated(declared, exc)
    except BaseException:  # cancelled: let go of the buffer before the task's exception keeps it
        buf.clear()
        raise
    if declared is not None and len(buf) != declared:
        buf.clear()
        return b"", _truncated(declared, asyncio.IncompleteReadError(b"", declared))
    return buf, None


def _too_large(limit: int, got: str) -> ApiError:
    return ApiError(
        413,
        [Violation("body", f"at most {limit} bytes (--max-body-size)", got)],
        message=f"The request body is larger than the limit of {limit} bytes.",
        headers={"Connection": "close"},
    )


def _busy(budget: BodyBudget) -> ApiError:
    return ApiError(
        503,
        [
            Violation(
                "body",
                f"room within the {budget.limit} bytes all request bodies may hold at once (--max-body-memory)",
                f"{budget.held} bytes held by bodies in progress",
            )
        ],
        message="The fake is holding as many request bodies as its memory limit allows; try again shortly.",
        headers={"Connection": "close", "Retry-After": BUSY_RETRY_AFTER},
    )


def _too_slow(rate: int, received: int, elapsed: float) -> ApiError:
    return ApiError(
        408,
        [
            Violation(
                "body",
                f"at least {rate} bytes a second after the first {BODY_RATE_GRACE:g} s (--min-body-rate)",
                f"{received} bytes in {elapsed:.1f} s",
            )
        ],
        message="The request body arrived too slowly; the connection is closed.",
        headers={"Connection": "close"},
        error_type="TimeoutException",
    )


def _truncated(declared: int | None, exc: BaseException) -> ApiError:
    expected = f"{declared} bytes as declared by Content-Length" if declared is not None else "a complete body"
    return ApiError(400, [Violation("body", expected, f"a body cut short ({type(exc).__name__})")])


async def answer_and_hang_up(request: web.Request, response: web.StreamResponse) -> None:
    """Send the answer now and drop the connection, so the rest of the body is never read.

    Left alone, aiohttp would keep the connection and read (and discard) the remaining body
    for up to ten seconds before answering the next request.
    """
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.protocol is not None:
        request.protocol.force_close()


def expects_continue(request: web.Request) -> bool:
    """An HTTP/1.1 ``Expect: 100-continue``: the client waits for a go-ahead before sending the body.

    Other expectations are ignored rather than answered 417 outside the error shape.
    """
    return request.version == HttpVersion11 and request.headers.get("Expect", "").lower() == "100-continue"


async def hold_continue(request: web.Request) -> None:
    """The route's expect handler: say nothing yet. `grant_continue` says it once the headers pass."""


async def grant_continue(request: web.Request) -> None:
    """Say ``100 Continue``: called only once the headers have passed and the body fits."""
    if expects_continue(request):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the 100 is not part of the response body
