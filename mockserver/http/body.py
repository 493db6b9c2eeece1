"""Reading a request body within the size limit, as IIS would: 413 past it, 400 for a body cut short."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from aiohttp import HttpVersion11, web

from ..core.errors import ApiError, Violation
from .responses import FAKE_KEY

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


async def answer_and_hang_up(request: web.Request, response: web.Response) -> None:
    """Send the 413 now and drop the connection, so the rest of the body is never read.

    Left alone, aiohttp would keep the connection and read (and discard) the remaining body
    for up to ten seconds before answering the next request.
    """
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.protocol is not None:
        request.protocol.force_close()


async def continue_within_limit(request: web.Request) -> None:
    """Say ``100 Continue`` only to a body that fits; an oversized one gets its 413 unsent."""
    if request.version != HttpVersion11 or request.headers.get("Expect", "").lower() != "100-continue":
        return  # other expectations are ignored rather than answered 417 outside the error shape
    declared = request.content_length
    if declared is not None and declared > request.app[FAKE_KEY].settings.max_body_size:
        return
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the 100 is not part of the response body
