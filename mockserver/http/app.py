"""The agent routes: read the request, hand it to the core, write the answer."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..core.exchange import Outcome, RawRequest
from ..core.fake import Fake
from .body import answer_and_hang_up, continue_within_limit, read_body
from .debug import add_debug_routes
from .faults import act_out
from .responses import FAKE_KEY, to_response

log = logging.getLogger("mockserver")
# Decoding a body of several MiB (8 million XML elements fit in 32 MiB) takes seconds: a body
# past this size is processed on a worker thread, so the loop keeps answering other clients
# meanwhile. Fake.process is safe to call from any thread (tests/properties/test_concurrency.py).
THREAD_BODY_SIZE = 1024 * 1024


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
    if len(body) > THREAD_BODY_SIZE:
        outcome = await asyncio.get_running_loop().run_in_executor(None, fake.process, raw)
    else:
        outcome = fake.process(raw)
    if fake.settings.log_calls:
        log_call(outcome)
    if outcome.fault is not None:  # injected: delay, drop or truncate happen on the socket
        return await act_out(outcome.fault, request, outcome)
    response = to_response(outcome)
    if problem is not None and problem.status == 413:
        await answer_and_hang_up(request, response)
    return response


def log_call(outcome: Outcome) -> None:
    r = outcome.record
    if r.accepted:
        detail = f"id {r.blob_id}" if r.blob_id is not None else "ok"
    else:
        detail = r.violations[0].message if r.violations else "rejected"
    log.info("#%d %s %s -> %d %s", r.seq, r.method, r.path, r.status, detail)


def build_app(fake: Fake) -> web.Application:
    """Build the aiohttp application serving `fake`."""
    app = web.Application(client_max_size=fake.settings.max_body_size)
    app[FAKE_KEY] = fake
    add_debug_routes(app)
    app.router.add_route("*", "/{tail:.*}", agent_handler, expect_handler=continue_within_limit)
    return app
