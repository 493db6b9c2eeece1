"""Journal the requests aiohttp refuses before any handler runs.

aiohttp's HTTP parser answers a request it cannot read (an unknown method name, broken framing,
a NUL in a header) with its own plain-text 400, and no handler ever sees it. A test double that
drops such a call from its journal hides exactly the bug a user is looking for, so the runner
here swaps in a connection handler whose error path records the call and answers in
SuperOffice's error shape.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from ..core.exchange import record_refusal
from ..core.fake import Fake
from ..core.vocabulary.errors import ApiError, Violation
from .connections import CONNECTIONS_KEY, ConnectionLimits, Connections, GuardedHandler
from .responses import error_response, to_response

log = logging.getLogger("mockserver")
UNPARSED_PATH = "(unparsed)"


def journal_refused(
    fake: Fake, request: web.BaseRequest, status: int, exc: BaseException | None, text: str | None
) -> web.Response:
    """Record a request the HTTP layer refused (or a handler crash) and build its answer."""
    reason = _safe_reason(text or (str(exc) if exc else "") or "no detail")
    kind = type(exc).__name__ if exc is not None else "error"
    headers: dict[str, str] = {}
    if status >= 500 and exc is not None and out_of_fds(exc):
        violation = Violation("server", "a free file descriptor", f"{kind}: the open-file limit is reached")
        message = "The fake has run out of file descriptors (the open-file limit); try again shortly."
        status = 503
        headers = {"Retry-After": "1"}
    elif status >= 500:
        violation = Violation("server", "an answer from the fake", f"{kind} while handling the request")
        message = f"The fake failed while handling this request ({kind}). This is a bug in the fake."
    else:
        violation = Violation("request", "a well-formed HTTP/1.1 request", f"{kind}: {reason}")
        message = f"The request could not be read as HTTP: {reason}"
    err = ApiError(status, [violation], message=message, headers=headers)
    if isinstance(exc, ApiError):  # the core's own answer (a damaged state file): sent as it stands
        err = exc
    parsed = request.method != "UNKNOWN"
    if parsed and not journaled_path(request.path):  # the /_ routes are never journaled, even on a crash
        resp = error_response(err)
    else:
        outcome = record_refusal(fake.state.journal, request.method, request.path if parsed else UNPARSED_PATH, err)
        resp = to_response(outcome)
    resp.force_close()
    return resp


def out_of_fds(exc: BaseException) -> bool:
    """Whether `exc` came of the open-file limit: EMFILE or ENFILE, or (sqlite says only "unable to
    open database file") any error while no file can be opened at all."""
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        return True
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError as probe:
        return probe.errno in (errno.EMFILE, errno.ENFILE)
    return False


def journaled_path(path: str) -> bool:
    """False for the fake's own /_ routes: looking at the fake never changes its journal."""
    return not path.startswith("/_")


# aiohttp's parser errors quote the raw bytes around the fault: the C parser on lines of their own
# (a repr and a caret under it), the Python parser inline. A header line, folded or not, may hold a
# credential, so no excerpt is ever kept: only aiohttp's description of the fault.
_BYTES_LITERAL = re.compile(r"""b'(?:[^'\\]|\\.)*'?|b"(?:[^"\\]|\\.)*"?""")
_HIDDEN = "(the offending line is not shown: it may hold credentials)"


def _safe_reason(text: str) -> str:
    """aiohttp's description of a parse error without any excerpt of the request's bytes."""
    lines, hidden = [], False
    for line in text.strip().splitlines():
        line = line.strip()
        if line.startswith(("b'", 'b"')) or (line and not line.strip("^ ")):
            hidden = True  # the excerpt and the caret pointing into it
        elif line:
            lines.append(line)
    reason, found = _BYTES_LITERAL.subn("(…)", " ".join(lines))
    reason = reason.strip().rstrip(":").strip()
    return (f"{reason} {_HIDDEN}" if hidden or found else reason)[:300]


class _JournalingHandler(GuardedHandler):
    """A connection handler whose error answers are journaled and SuperOffice-shaped (and guarded: `connections`)."""

    fake: Fake

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # an answer is under way: aiohttp's own handling applies
            return super().handle_error(request, status, exc, message)
        if status >= 500 and exc is not None:  # at most once a minute under `mockserver serve` (http.logs)
            log.error("error while handling %s %s", request.method, request.path[:100], exc_info=exc)
        try:
            return journal_refused(self.fake, request, status, exc, message)
        except Exception:  # never let journaling turn a 400 into a crash
            return super().handle_error(request, status, exc, message)


class _JournalingServer(web.Server):
    fake: Fake
    tally: Connections

    def __call__(self) -> RequestHandler:
        handler = _JournalingHandler(self, loop=self._loop, **self._kwargs)
        handler.fake = self.fake
        handler.tally = self.tally
        return handler


class FakeRunner(web.AppRunner):
    """An AppRunner whose connections journal what the HTTP parser refuses."""

    def __init__(self, fake: Fake, app: web.Application, **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=fake.settings.idle_timeout, **kwargs)
        self._fake = fake
        self.tally = app[CONNECTIONS_KEY] = Connections(ConnectionLimits.of(fake.settings))

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        server = _JournalingServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )
        server.fake = self._fake
        server.tally = self.tally
        return server
