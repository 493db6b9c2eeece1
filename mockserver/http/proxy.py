"""The proxy's routes: forward each request to the upstream, answer with what it said, journal the exchange.

The request body is read within the fake's limit (413 past it, answered here and not
forwarded), then sent on; the upstream's answer is read (whole, up to `upstream.KEPT_ANSWER`;
a longer one is passed on as it comes by `passing_on`), checked (`core.proxy.drift`) and
journaled before the client has the end of it, so a test that has its answer also finds
the record. The /_ routes are the fake's (journal, page, coverage, reset, health) and /_drift;
no fault routes (the proxy changes nothing) and no /_images (it stores nothing).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ..core.exchange import RawRequest, record_refusal
from ..core.headers import media
from ..core.proxy.recorder import ProxyCore
from ..core.vocabulary.errors import ApiError, Violation, preview
from ..core.vocabulary.records import CallRecord
from .body import (
    BUDGET_KEY,
    HANG_UP,
    BodyBudget,
    Hold,
    answer_and_hang_up,
    declared_too_large,
    grant_continue,
    hold_continue,
    read_body,
)
from .debug import ROUTES, Handler, add_debug_routes, unknown_route
from .drift_page import render_drift
from .faults import FAULT_ROUTES
from .passing_on import StreamedResponse, pass_on
from .responses import FAKE_KEY, error_response, json_response, to_response
from .upstream import NOT_RETURNED, Reply, UpstreamClient, passing

log = logging.getLogger("mockserver")
PROXY_KEY: web.AppKey[ProxyCore] = web.AppKey("proxy", ProxyCore)
CLIENT_KEY: web.AppKey[UpstreamClient] = web.AppKey("upstream client", UpstreamClient)
# Headers aiohttp would add to an answer that lacked them; a verbatim answer keeps lacking them.
ADDED_BY_AIOHTTP = ("Content-Type", "Date", "Server")


class VerbatimResponse(web.Response):
    """The upstream's answer as it came: status, reason, headers (less hop-by-hop ones) and body."""

    def __init__(self, reply: Reply, method: str) -> None:
        headers = passing(reply.headers.items(), NOT_RETURNED)
        body: bytes | None = reply.answer.body
        if method == "HEAD" and "Content-Length" in reply.headers:
            headers["Content-Length"] = reply.headers["Content-Length"]  # the size a GET would have had
            body = None
        super().__init__(status=reply.answer.status, reason=reply.reason, body=body, headers=headers)
        self.sent = frozenset(name.lower() for name in reply.headers)


async def _drop_additions(request: web.Request, response: web.StreamResponse) -> None:
    if isinstance(response, VerbatimResponse | StreamedResponse):
        for name in ADDED_BY_AIOHTTP:
            if name.lower() not in response.sent:
                response.headers.popall(name, None)


def log_exchange(record: CallRecord) -> None:
    upstream = record.extra.get("upstream", {})
    if not upstream.get("forwarded"):
        detail = "answered here, not forwarded"
    elif "error" in upstream:
        detail = f"no answer: {upstream['error']}"
    else:
        detail = f"upstream {upstream['elapsed_ms']:.0f} ms"
    drift = record.extra.get("drift") or []
    kinds = ", ".join(dict.fromkeys(d["kind"] for d in drift))
    log.info("#%d %s %s -> %d (%s)%s", record.seq, record.method, record.path, record.status, detail,
             f" drift: {kinds}" if kinds else "")  # fmt: skip


def origin_form(request: web.Request) -> str | ApiError:
    """The path and query to forward, as sent; a 400 for a target naming another host.

    An absolute-form target (``GET http://host/path``) is what a client sends to a forward proxy
    (``HTTP_PROXY``): one naming another host than this proxy's own Host would have its request,
    and the credentials meant for that host, sent to the tenant. One naming this proxy is
    taken as its path and query (RFC 9112 §3.2.2).
    """
    target = request.raw_path
    if target.startswith("/"):
        return target
    parts = urlsplit(target)
    host = request.headers.get("Host", "")
    if parts.scheme.lower() in ("http", "https") and parts.netloc and parts.netloc.lower() == host.strip().lower():
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ApiError(
        400,
        [Violation("request target", f"a path such as /Cust12345/api/... ({preview(host, 60)})", preview(target, 80))],
        message="The proxy forwards paths to its upstream only; it is not a proxy for other hosts.",
    )


async def forward(request: web.Request) -> web.StreamResponse:
    """Every path no /_ route serves: forward, check, journal, answer as the upstream did."""
    if request.path.startswith("/_"):  # not an agent path: never forwarded, never journaled
        return await unknown_route(request)
    core = request.app[PROXY_KEY]
    arrived = time.time()
    target = origin_form(request)
    if isinstance(target, ApiError):  # not forwarded; journaled with the target as sent
        outcome = record_refusal(core.state.journal, request.method, request.raw_path[:200], target)
        if core.settings.log_calls:
            log_exchange(outcome.record)
        response = to_response(outcome)
        await answer_and_hang_up(request, response)
        return response
    problem = declared_too_large(request, core.settings.max_body_size)
    body: bytes | bytearray = b""
    hold = Hold(request.app[BUDGET_KEY])
    try:
        if problem is None:
            await grant_continue(request)
            body, problem = await read_body(request, core.settings.max_body_size, hold, core.settings.min_body_rate)
        data = bytes(body)  # one copy: the upstream gets it, then the checks read it
    finally:
        hold.release()
    del body
    if problem is not None:
        raw = RawRequest(request.method, request.path, request.query_string, request.headers, b"", problem)
        outcome = core.process(raw)
        if core.settings.log_calls:
            log_exchange(outcome.record)
        response = to_response(outcome)
        if problem.status in HANG_UP:
            await answer_and_hang_up(request, response)
        return response
    has_body = bool(data) or request.content_length is not None or "Transfer-Encoding" in request.headers
    chunked = request.content_length is None and "Transfer-Encoding" in request.headers
    url = core.upstream.url_for(target)
    client = request.app[CLIENT_KEY]
    reply: Reply | None = None
    failure = None
    kept = Hold(request.app[BUDGET_KEY])  # the answer's first bytes, held until checked
    try:
        try:
            reply = await client.send(
                request.method, url, request.headers.items(), data if has_body else None, chunked, kept
            )
        except TimeoutError:
            failure = f"TimeoutError: no whole answer within {client.timeout:g} s"
        except aiohttp.ClientError as exc:
            failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        streamed = None
        answer = reply.answer if reply is not None else None
        if reply is not None and reply.rest is not None:  # too long to keep: passed on as it comes
            streamed, answer, last = await pass_on(request, reply, client.timeout)
        raw = RawRequest(request.method, request.path, request.query_string, request.headers, data)
        record = core.record_exchange(raw, answer, failure, url=url, started=arrived)
        del raw, answer
    finally:
        kept.release()
        if reply is not None:
            reply.close()
    if core.settings.log_calls:
        log_exchange(record)
    if streamed is not None:
        if last:
            await streamed.write(last)
        return streamed
    if reply is None:
        return error_response(
            ApiError(
                502,
                [Violation("upstream", f"an answer from {core.upstream.base}", record.extra["upstream"]["error"])],
                message=f"The proxy got no answer from {core.upstream.base}.",
            )
        )
    return VerbatimResponse(reply, request.method)


async def drift_summary(request: web.Request) -> web.Response:
    """GET /_drift: the drift seen so far by kind, as JSON or (to a browser) a page."""
    core = request.app[PROXY_KEY]
    summary = {"upstream": core.upstream.base, **core.drift.summary()}
    items, _problems = media.parse_accept(request.headers.get("Accept", ""))
    if media.negotiate(items, ("application/json", "text/html")) == "text/html":
        page = render_drift(summary, core.settings.admin_token)
        return web.Response(
            text=page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "Cache-Control": "no-store",
            },
        )
    return json_response(summary)


def proxy_routes() -> dict[str, dict[str, Handler]]:
    """The fake's /_ routes a proxy keeps, and /_drift."""
    kept = {path: methods for path, methods in ROUTES.items() if path not in FAULT_ROUTES and "{blob_id}" not in path}
    return {**kept, "/_drift": {"GET": drift_summary}}


def build_proxy_app(core: ProxyCore, client: UpstreamClient) -> web.Application:
    """The aiohttp application of a proxy: /_ routes, then every other path forwarded through `client`."""
    app = web.Application(client_max_size=core.settings.max_body_size)
    app[FAKE_KEY] = core  # what the /_ routes and the 100-continue check read
    app[PROXY_KEY] = core
    app[CLIENT_KEY] = client
    add_debug_routes(app, proxy_routes())
    settings = core.settings
    app[BUDGET_KEY] = BodyBudget(max(settings.max_body_memory, settings.max_body_size), settings.max_body_size)
    app.router.add_route("*", "/{tail:.*}", forward, expect_handler=hold_continue)
    app.on_response_prepare.append(_drop_additions)

    async def open_client(_app: web.Application) -> None:
        await client.open()

    async def close_client(_app: web.Application) -> None:
        await client.close()

    app.on_startup.append(open_client)
    app.on_cleanup.append(close_client)
    return app
