"""The agent routes: read the request, hand it to the core, write the answer."""

from __future__ import annotations

import logging

from aiohttp import web

from ..core.codecs import encode_json
from ..core.exchange import Outcome, RawRequest
from ..core.fake import Fake
from .body import answer_and_hang_up, continue_within_limit, read_body
from .debug import add_debug_routes
from .faults import act_out
from .responses import FAKE_KEY, record_json, to_response

log = logging.getLogger("mockserver")


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
        log_call(outcome, fake.settings.log_format)
    if outcome.fault is not None:  # injected: delay, drop or truncate happen on the socket
        return await act_out(outcome.fault, request, outcome)
    response = to_response(outcome)
    if problem is not None and problem.status == 413:
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
    app = web.Application(client_max_size=fake.settings.max_body_size)
    app[FAKE_KEY] = fake
    add_debug_routes(app)
    app.router.add_route("*", "/{tail:.*}", agent_handler, expect_handler=continue_within_limit)
    return app
