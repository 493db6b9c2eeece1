"""The agent routes: check the headers, read the body, hand it to the core, write the answer."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..core.body.codecs import encode_json
from ..core.exchange import Outcome, RawRequest
from ..core.fake import Fake
from ..core.vocabulary.errors import ApiError
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
from .responses import FAKE_KEY, record_json, to_response

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
    return RawRequest(request.method, request.path, request.query_string, request.headers, body, problem)


async def _answer(request: web.Request, outcome: Outcome, *, hang_up: bool = False) -> web.StreamResponse:
    settings = request.app[FAKE_KEY].settings
    if settings.log_calls:
        log_call(outcome, settings.log_format)
    if outcome.fault is not None:  # injected: delay, drop or truncate happen on the socket
        return await act_out(outcome.fault, request, outcome)
    response = to_response(outcome)
    if hang_up:
        await answer_and_hang_up(request, response)
    return response


def log_call(outcome: Outcome, fmt: str = "text") -> None:
    """One line per call: readable text, or (``log_format="json"``) the record as /_calls shows it."""
    r = outcome.record
    if fmt == "json":
        log.info("%s", encode_json(record_json(r)).decode("utf-8", "backslashreplace"))
        return
    if r.accepted:
        detail = f"id {r.blob_id}" if r.blob_id is not None else "ok"
    else:
        detail = r.violations[0].message if r.violations else "rejected"
    if r.warnings:
        more = f" (+{len(r.warnings) - 1} more)" if len(r.warnings) > 1 else ""
        detail += f"; warning: {r.warnings[0].message}{more}"
    log.info("#%d %s %s -> %d %s", r.seq, r.method, r.path, r.status, detail)


def build_app(fake: Fake) -> web.Application:
    """Build the aiohttp application serving `fake`."""
    settings = fake.settings
    app = web.Application(client_max_size=settings.max_body_size)
    app[FAKE_KEY] = fake
    app[BUDGET_KEY] = BodyBudget(max(settings.max_body_memory, settings.max_body_size), settings.max_body_size)
    add_debug_routes(app, tenants=fake.tenants is not None)
    app.router.add_route("*", "/{tail:.*}", agent_handler, expect_handler=hold_continue)
    return app
