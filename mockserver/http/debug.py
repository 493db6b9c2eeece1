"""Routes under /_ for people and tests: the journal, stored images, reset, health.

These requests are not journaled, so that looking at the journal never changes it. With an
admin token set, every /_ route wants ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from ..core import media
from ..core.errors import ApiError, Violation, preview
from ..core.images import content_type
from ..core.journal import CallList
from .faults import FAULT_ROUTES
from .page import render_calls
from .responses import error_response, fake_of, json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FILTERS = ("since", "limit", "outcome")
OUTCOMES = ("accepted", "rejected")
PAGE_LIMIT = 200  # the HTML page shows at most this many calls unless ?limit= says otherwise
# A stored image is whatever a client sent; served on our origin it must not run scripts (SVG).
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def _authorised(request: web.Request, token: str) -> bool:
    expected = token.encode()
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected):
        return True
    given = request.query.get("token")
    return given is not None and hmac.compare_digest(given.encode(), expected)


def _guarded(methods: Mapping[str, Handler], fallback: Handler | None = None) -> Handler:
    """One /_ resource: check the admin token, then dispatch on the method (405 in the error shape)."""
    allow = ", ".join(sorted(methods))

    async def handle(request: web.Request) -> web.StreamResponse:
        token = fake_of(request).settings.admin_token
        if token and not _authorised(request, token):
            header = request.headers.get("Authorization")
            got = "no Authorization header and no ?token=" if header is None else f"Authorization {preview(header, 12)}"
            return error_response(
                ApiError(
                    401,
                    [Violation("header.Authorization", "Bearer <admin token> or ?token=<admin token>", got)],
                    headers={"WWW-Authenticate": 'Bearer realm="mockserver admin"'},
                    message="The /_ routes of this fake need its admin token (--admin-token).",
                )
            )
        handler = methods.get("GET" if request.method == "HEAD" else request.method, fallback)
        if handler is None:
            return error_response(
                ApiError(
                    405,
                    [Violation("method", f"one of {allow}", request.method)],
                    headers={"Allow": allow},
                    message=f"The method {request.method} is not allowed for {request.path}; use {allow}.",
                )
            )
        return await handler(request)

    return handle


def _int_param(name: str, raw: str, minimum: int) -> int:
    if raw.strip().isdigit() and int(raw) >= minimum:
        return int(raw)
    raise ApiError(400, [Violation(f"query.{name}", f"a whole number of at least {minimum}", preview(raw, 20))])


def _filtered(request: web.Request, default_limit: int | None) -> CallList:
    """Apply ?since=, ?outcome= and ?limit= (unknown parameters are a 400, not silently ignored)."""
    for name in request.query:
        if name not in FILTERS and name != "token":
            raise ApiError(400, [Violation(f"query.{name}", f"one of {', '.join(FILTERS)}", preview(name, 30))])
    journal = fake_of(request).state.journal
    query = request.query
    calls = journal.since(_int_param("since", query["since"], 0)) if "since" in query else journal.snapshot()
    if "outcome" in query:
        outcome = query["outcome"]
        if outcome not in OUTCOMES:
            raise ApiError(400, [Violation("query.outcome", "accepted or rejected", preview(outcome, 20))])
        calls = calls.filter(outcome=outcome)
    limit = _int_param("limit", query["limit"], 1) if "limit" in query else default_limit
    if limit is not None and len(calls) > limit:
        # After ?since= a client pages forward, so it gets the oldest; otherwise the newest matter.
        calls = calls[:limit] if "since" in query else calls[-limit:]
    return calls


def _wants_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    items, _problems = media.parse_accept(accept)  # malformed entries are skipped, not fatal
    return media.negotiate(items, ("application/json", "text/html")) == "text/html"


async def list_calls(request: web.Request) -> web.Response:
    fake = fake_of(request)
    html = _wants_html(request)
    try:
        calls = _filtered(request, PAGE_LIMIT if html else None)
    except ApiError as err:
        return error_response(err)
    if html:
        # Images load without our Authorization header, so their URLs carry the token.
        token = fake.settings.admin_token
        page = render_calls(list(calls), fake.state.journal.dropped, fake.images, token, dict(request.query))
        return web.Response(
            text=page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )
    return json_response({"calls": [r.to_json() for r in calls], "dropped": fake.state.journal.dropped})


async def clear_calls(request: web.Request) -> web.Response:
    journal = fake_of(request).state.journal
    cleared = len(journal)
    journal.clear()
    return json_response({"cleared": cleared})


async def one_call(request: web.Request) -> web.Response:
    raw = request.match_info["seq"]
    try:
        seq = _int_param("seq", raw, 1)
    except ApiError:
        return error_response(
            ApiError(400, [Violation("path.seq", "a call's sequence number (1, 2, …)", preview(raw, 20))])
        )
    record = fake_of(request).state.journal.get(seq)
    if record is None:
        return error_response(
            ApiError(
                404,
                [Violation("path.seq", "the seq of a call still in the journal", str(seq))],
                message=f"No call #{seq} in the journal.",
            )
        )
    return json_response(record.to_json())


async def image(request: web.Request) -> web.Response:
    fake = fake_of(request)
    raw = request.match_info["blob_id"]
    if not raw.isdigit():
        return error_response(
            ApiError(400, [Violation("path.blob_id", "a blob id (a whole number)", preview(raw, 20))])
        )
    entry = fake.images.entry(int(raw))
    if entry is None:
        return error_response(
            ApiError(
                404,
                [Violation("path.blob_id", "the id of a stored image", raw)],
                message=f"No image with blob id {raw}.",
            )
        )
    return web.Response(
        body=entry.data,
        content_type=content_type(entry.info.format),
        headers={
            "Content-Security-Policy": IMAGE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


async def reset(request: web.Request) -> web.Response:
    fake = fake_of(request)
    fake.reset()
    return json_response({"reset": True, "next_id": fake.next_id})


async def health(request: web.Request) -> web.Response:
    fake = fake_of(request)
    return json_response({"status": "ok", "next_id": fake.next_id, "calls": len(fake.state.journal)})


async def coverage(request: web.Request) -> web.Response:
    return json_response(fake_of(request).coverage())


ROUTES: dict[str, dict[str, Handler]] = {
    "/_calls": {"GET": list_calls, "DELETE": clear_calls},
    "/_calls/{seq}": {"GET": one_call},
    "/_images/{blob_id}": {"GET": image},
    "/_reset": {"POST": reset},
    "/_health": {"GET": health},
    "/_coverage": {"GET": coverage},
}
ROUTES.update(FAULT_ROUTES)


async def unknown(request: web.Request) -> web.Response:
    known = ", ".join(f"{m} {p}" for p, methods in ROUTES.items() for m in methods)
    return error_response(
        ApiError(
            404,
            [Violation("path", f"a debug route ({known})", preview(request.path, 60))],
            message=f"No debug route {request.path}.",
        )
    )


def unknown_among(routes: Mapping[str, Mapping[str, Handler]]) -> Handler:
    """`unknown` for a set of routes other than ROUTES."""

    async def handle(request: web.Request) -> web.Response:
        known = ", ".join(f"{m} {p}" for p, methods in routes.items() for m in methods)
        violation = Violation("path", f"a debug route ({known})", preview(request.path, 60))
        return error_response(ApiError(404, [violation], message=f"No debug route {request.path}."))

    return handle


def add_debug_routes(app: web.Application, routes: Mapping[str, Mapping[str, Handler]] | None = None) -> None:
    """Register the /_ routes; registered before the agent catch-all, so /_ is never an agent path.

    `routes` replaces ROUTES: a proxy serves its own set.
    """
    served = ROUTES if routes is None else routes
    for path, methods in served.items():
        app.router.add_route("*", path, _guarded(methods))
    app.router.add_route(
        "*", "/_{tail:.*}", _guarded({}, fallback=unknown if routes is None else unknown_among(served))
    )
