"""The thin aiohttp shell: read the request, hand it to the core, write the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from aiohttp import HttpVersion11, web

from .errors import ApiError, Violation
from .fake import Fake, Outcome, RawRequest

FAKE_KEY: web.AppKey[Fake] = web.AppKey("fake", Fake)
log = logging.getLogger("mockserver")
# Seconds to wait for the next body bytes before giving up with a 400, as http.sys's EntityBody
# timer does: a stalled client or a chunk aiohttp could not parse would otherwise hold a handler forever.
BODY_IDLE_TIMEOUT = 120.0


async def _idle(read: Awaitable[bytes]) -> bytes:
    async with asyncio.timeout(BODY_IDLE_TIMEOUT):
        return await read


async def read_body(request: web.Request, limit: int) -> tuple[bytes | bytearray, ApiError | None]:
    """Read the body up to `limit` bytes; past it, stop reading and report 413."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return b"", _too_large(limit, f"Content-Length {declared}")
    if declared is not None:
        try:
            # A small body has usually arrived with the headers: take it without arming a timer.
            first = request.content.read_nowait(declared)
        except Exception as exc:  # the client already went away
            return b"", _truncated(declared, exc)
        if len(first) == declared:
            return first, None
        # One buffer of the declared size filled in place: readexactly() would hold every chunk
        # and then join them into a second full copy.
        data = bytearray(declared)
        data[: len(first)] = first
        got = len(first)
        del first
        try:
            while got < declared:
                chunk = await _idle(request.content.read(declared - got))
                if not chunk:
                    raise asyncio.IncompleteReadError(bytes(data[:got]), declared)
                data[got : got + len(chunk)] = chunk
                got += len(chunk)
        except Exception as exc:  # the client went away or sent less than it declared
            return b"", _truncated(declared, exc)
        return data, None
    buf = bytearray()
    try:
        while True:
            chunk = await _idle(request.content.readany())
            if not chunk:
                break
            buf += chunk
            if len(buf) > limit:
                return b"", _too_large(limit, f"more than {limit} bytes (chunked)")
    except Exception as exc:
        return b"", _truncated(None, exc)
    return buf, None


def _too_large(limit: int, got: str) -> ApiError:
    return ApiError(
        413,
        [Violation("body", f"at most {limit} bytes (--max-body-size)", got)],
        message=f"The request body is larger than the limit of {limit} bytes.",
        headers={"Connection": "close"},
    )


def _truncated(declared: int | None, exc: BaseException) -> ApiError:
    expected = f"{declared} bytes as declared by Content-Length" if declared is not None else "a complete body"
    return ApiError(400, [Violation("body", expected, f"a body cut short ({type(exc).__name__})")])


def to_response(outcome: Outcome) -> web.Response:
    resp = web.Response(status=outcome.status, body=outcome.body, headers=outcome.headers)
    if outcome.content_type:
        resp.headers["Content-Type"] = outcome.content_type
    return resp


async def agent_handler(request: web.Request) -> web.StreamResponse:
    """Every path not under /_ comes here: read, process in the core, answer."""
    fake = request.app[FAKE_KEY]
    body, problem = await read_body(request, fake.settings.max_body_size)
    raw = RawRequest(
        method=request.method,
        path=request.path,
        query_string=request.query_string,
        headers=request.headers,
        body=body,
        body_problem=problem,
    )
    outcome = fake.process(raw)
    if fake.settings.log_calls:
        log_call(outcome)
    if outcome.fault is not None:  # injected: delay, drop or truncate happen on the socket
        return await outcome.fault.respond(request, outcome)
    response = to_response(outcome)
    if problem is not None and problem.status == 413:
        await _answer_and_hang_up(request, response)
    return response


async def _answer_and_hang_up(request: web.Request, response: web.Response) -> None:
    """Send the 413 now and drop the connection, so the rest of the body is never read.

    Left alone, aiohttp would keep the connection and read (and discard) the remaining body
    for up to ten seconds before answering the next request.
    """
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.protocol is not None:
        request.protocol.force_close()


def log_call(outcome: Outcome) -> None:
    r = outcome.record
    if r.accepted:
        detail = f"id {r.blob_id}" if r.blob_id is not None else "ok"
    else:
        detail = r.violations[0].message if r.violations else "rejected"
    log.info("#%d %s %s -> %d %s", r.seq, r.method, r.path, r.status, detail)


def build_app(fake: Fake) -> web.Application:
    """Build the aiohttp application serving `fake`."""
    from .debug import add_debug_routes

    app = web.Application(client_max_size=fake.settings.max_body_size)
    app[FAKE_KEY] = fake
    add_debug_routes(app)
    app.router.add_route("*", "/{tail:.*}", agent_handler, expect_handler=_continue_within_limit)
    return app


async def _continue_within_limit(request: web.Request) -> None:
    """Say ``100 Continue`` only to a body that fits; an oversized one gets its 413 unsent."""
    if request.version != HttpVersion11 or request.headers.get("Expect", "").lower() != "100-continue":
        return  # other expectations are ignored rather than answered 417 outside the error shape
    declared = request.content_length
    if declared is not None and declared > request.app[FAKE_KEY].settings.max_body_size:
        return
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the 100 is not part of the response body
