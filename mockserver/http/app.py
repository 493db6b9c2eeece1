"""The agent routes: check the headers, read the body, hand it to the core, write the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from ..core.body.codecs import encode_json
from ..core.exchange import CallFacts, Outcome, RawRequest
from ..core.fake import Fake
from ..core.vocabulary.errors import ApiError
from ..core.vocabulary.records import CallRecord
from .body import (
    BUDGET_KEY,
    HANG_UP,
    BodyBudget,
    Hold,
    answer_and_hang_up,
    declared_too_large,
    expects_continue,
    grant_continue,
    hold_continue,
    read_body,
    take_buffered,
)
from .debug import add_debug_routes, unknown_route
from .faults import act_out
from .login import add_login_routes
from .responses import FAKE_KEY, HOST_KEY, call_ref, record_json, to_response

log = logging.getLogger("mockserver")
# Decoding a body of several MiB (8 million XML elements fit in 32 MiB) takes seconds: a body
# past this size is processed on a worker thread, so the loop keeps answering other clients
# meanwhile. Fake.process is safe to call from any thread (tests/properties/test_concurrency.py).
THREAD_BODY_SIZE = 1024 * 1024


async def agent_handler(request: web.Request) -> web.StreamResponse:
    """Every path no /_ route serves comes here: headers first, then the body, then the core."""
    if request.path.startswith("/_"):  # not an agent path: never journaled
        return await unknown_route(request)
    fake = request.app[FAKE_KEY]
    limit = fake.settings.max_body_size
    too_large = declared_too_large(request, limit)
    if too_large is not None:
        return await _answer(request, fake.process(_raw(request, problem=too_large)), hang_up=True)
    hold = Hold(request.app[BUDGET_KEY])
    try:
        problem: ApiError | None = None
        # The usual small body arrived with the headers: the core checks the headers first anyway,
        # so the answer is the one `precheck` would give (tests/properties/test_precheck.py).
        body: bytes | bytearray | None = take_buffered(request, hold)
        if body is None:
            # Nothing more of the body is read or reserved until the headers have passed.
            early = fake.precheck(_raw(request))
            if early is not None:
                # A client waiting for 100 Continue has sent nothing and will not: close rather than wait.
                hang_up = expects_continue(request) and not request.content.at_eof()
                return await _answer(request, early, hang_up=hang_up)
            await grant_continue(request)
            body, problem = await read_body(request, limit, hold, fake.settings.min_body_rate)
        raw = _raw(request, body, problem)
        # A big body takes a while to decode: on a worker thread, so other clients are answered meanwhile.
        if len(body) > THREAD_BODY_SIZE:
            outcome = await asyncio.get_running_loop().run_in_executor(None, fake.process, raw)
        else:
            outcome = fake.process(raw)
        del raw
        del body  # the core has emptied a bytearray body; let go of a bytes one before answering
    finally:
        hold.release()
    return await _answer(request, outcome, hang_up=problem is not None and problem.status in HANG_UP)


def _raw(request: web.Request, body: bytes | bytearray = b"", problem: ApiError | None = None) -> RawRequest:
    host = request.app.get(HOST_KEY, "")  # Online mode: the host this listener plays
    return RawRequest(request.method, request.path, request.query_string, request.headers, body, problem, host)


async def _answer(request: web.Request, outcome: Outcome, *, hang_up: bool = False) -> web.StreamResponse:
    root = request.app[FAKE_KEY]
    settings = root.settings
    if settings.log_calls:
        log_call(outcome, settings.log_format, root)
    if outcome.fault is not None:  # injected: delay, drop or truncate happen on the socket
        return await act_out(outcome.fault, request, outcome)
    response = to_response(outcome)
    if hang_up:
        await answer_and_hang_up(request, response)
    return response


def log_call(outcome: Outcome, fmt: str = "text", root: Fake | None = None) -> None:
    """One line per call: readable text, or (``log_format="json"``) the record as /_calls shows it.

    A text line starts with the call's reference (``#3``, ``Cust2#1``), unique across tenants
    (`root` is the fake that holds them). It is made from the call's facts as the journal holds
    them, so logging does not build the record (built only when someone reads it); it says what
    the record would say.
    """
    if fmt == "json":
        record = outcome.record
        shown = record_json(record, root) if root is not None else record.to_json()
        log.info("%s", encode_json(shown).decode("utf-8", "backslashreplace"))
        return
    entry = outcome.entry
    r: CallRecord | CallFacts = entry if isinstance(entry, CallRecord | CallFacts) else outcome.record
    if not _plain(r):
        r = outcome.record  # text the record escapes (records.guarded): the line says it as the record keeps it
    status = r.status
    if 200 <= status < 300:
        detail = f"id {r.blob_id}" if r.blob_id is not None else "ok"
    else:
        detail = r.violations[0].message if r.violations else "rejected"
    if r.warnings:
        more = f" (+{len(r.warnings) - 1} more)" if len(r.warnings) > 1 else ""
        detail += f"; warning: {r.warnings[0].message}{more}"
    ref = call_ref(root, r) if root is not None else f"#{r.seq}"
    line = f"{ref} {r.method} {r.path} -> {status} {detail}"
    sink = _SINK[0]
    if sink is None:
        log.info("%s", line)
    elif log.isEnabledFor(logging.INFO):
        sink(line)


# Where call lines go: the "mockserver" logger, unless `mockserver serve` has set a writer of its
# own (tools/logs.py), which skips building a logging.LogRecord per call.
_SINK: list[Callable[[str], None] | None] = [None]


def set_line_sink(sink: Callable[[str], None] | None) -> None:
    """Send text call lines to `sink` (still only when the "mockserver" logger logs INFO); None: to the logger."""
    _SINK[0] = sink


def _plain(r: CallRecord | CallFacts) -> bool:
    """The line's text is ASCII without backslashes: as the record would keep it (the usual call)."""
    path = r.path
    return (
        path.isascii()
        and "\\" not in path
        and (not r.violations or r.violations[0].message.isascii())
        and (not r.warnings or r.warnings[0].message.isascii())
    )


def build_app(
    fake: Fake,
    *,
    host: str = "",
    budget: BodyBudget | None = None,
    routes: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """Build the aiohttp application serving `fake`.

    In Online mode each host gets one: `host` names it, the hosts share one `budget`, and
    `routes` adds the host's own routes (the status API) before the agent catch-all.
    """
    settings = fake.settings
    app = web.Application(client_max_size=settings.max_body_size)
    app[FAKE_KEY] = fake
    app[BUDGET_KEY] = budget or BodyBudget(
        max(settings.max_body_memory, settings.max_body_size), settings.max_body_size
    )
    if host:
        app[HOST_KEY] = host
    add_debug_routes(app, tenants=fake.tenants is not None)
    add_login_routes(app)
    if routes is not None:
        routes(app)
    app.router.add_route("*", "/{tail:.*}", agent_handler, expect_handler=hold_continue)
    return app
