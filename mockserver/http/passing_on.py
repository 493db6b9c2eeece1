"""Passing a long upstream answer on as it comes, holding one chunk at a time.

The proxy keeps the first bytes of an answer for its checks (`http.upstream.KEPT_ANSWER`); an
answer longer than that goes to the client chunk by chunk: status and headers first, then the
kept prefix, then each chunk as the upstream sends it. The last chunk is held back until the
exchange is journaled, so a client that has its whole answer also finds the record. An answer
cut short (the upstream's timeout, a broken connection) is cut short for the client too: the
connection is closed without the answer's end, never made to look complete.
"""

from __future__ import annotations

import dataclasses
import time

import aiohttp
from aiohttp import web

from ..core.proxy.drift import UpstreamAnswer
from .upstream import NOT_RETURNED, Reply, passing


class StreamedResponse(web.StreamResponse):
    """The upstream's status, reason and headers (less hop-by-hop ones), its body to follow."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(
            status=reply.answer.status, reason=reply.reason, headers=passing(reply.headers.items(), NOT_RETURNED)
        )
        length = reply.headers.get("Content-Length", "").strip()
        if length.isdigit():  # the client learns the size; otherwise chunked (or closed, to HTTP/1.0)
            self.content_length = int(length)
        self.sent = frozenset(name.lower() for name in reply.headers)


async def pass_on(request: web.Request, reply: Reply, timeout: float) -> tuple[StreamedResponse, UpstreamAnswer, bytes]:
    """Send all of `reply` but its last chunk; return the response, the answer as seen and that chunk.

    The answer's `size` is what came in all, its `cut` why it stopped short (None: it did not).
    """
    assert reply.rest is not None
    response = StreamedResponse(reply)
    received = len(reply.answer.body) + len(reply.pending)
    last = reply.pending  # read and not yet written: held back while it may be the last
    cut: str | None = None
    try:
        try:
            await response.prepare(request)
            await response.write(reply.answer.body)
        except ConnectionError as exc:  # aiohttp's own reset errors are ConnectionErrors too
            cut = _client_gone(exc)
        while cut is None:
            try:
                chunk = await reply.rest.content.readany()
            except TimeoutError:
                cut = f"TimeoutError: no whole answer within {timeout:g} s"
                break
            except aiohttp.ClientError as exc:  # the upstream's connection broke
                cut = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                break
            if not chunk:
                break
            received += len(chunk)
            try:
                await response.write(last)
            except ConnectionError as exc:
                cut = _client_gone(exc)
            last = chunk
    finally:
        reply.close()
    if cut is not None:
        last = b""
        if request.protocol is not None:
            request.protocol.force_close()  # the client sees an answer cut short, not a complete one
    elapsed = (time.perf_counter() - reply.started) * 1000
    answer = dataclasses.replace(reply.answer, size=received, cut=cut, elapsed_ms=elapsed)
    return response, answer, last


def _client_gone(exc: BaseException) -> str:
    return f"the client went away ({type(exc).__name__})"
