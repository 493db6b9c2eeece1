"""Routes under /_ for people and tests: the journal, stored images, reset, health.

These requests are not journaled, so that looking at the journal never changes it. With an
admin token set, every /_ route wants ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from ..core import media
from ..core.about import VERSION
from ..core.errors import ApiError, Violation, preview
from ..core.fake import Fake
from ..core.images import content_type
from ..core.journal import CallList
from ..core.records import CallRecord
from ..core.storage.errors import evicted_error
from .faults import FAULT_ROUTES
from .page import View, render_calls
from .responses import error_response, fake_of, json_response, record_json, root_of, tenant_name

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FILTERS = ("since", "limit", "outcome", "tenant")
OUTCOMES = ("accepted", "rejected")
PAGE_LIMIT = 200  # the HTML page shows at most this many calls unless ?limit= says otherwise
# A stored image is whatever a client sent; served on our origin it must not run scripts (SVG).
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# Images go out in slices of the stored bytes, each written once the client took the last:
# a slow reader holds one slice of buffer, not a copy of the image.
IMAGE_CHUNK = 256 * 1024


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
        token = root_of(request).settings.admin_token
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
        try:
            return await handler(request)
        except ApiError as err:  # an unknown tenant prefix, a bad filter, a damaged state file: never a 500
            return error_response(err)

    return handle


def _int_param(name: str, raw: str, minimum: int) -> int:
    if raw.strip().isdigit() and int(raw) >= minimum:
        return int(raw)
    raise ApiError(400, [Violation(f"query.{name}", f"a whole number of at least {minimum}", preview(raw, 20))])


def _filtered(request: web.Request, default_limit: int | None) -> CallList:
    """Apply ?since=, ?outcome=, ?tenant= and ?limit= (unknown parameters are a 400, not silently ignored).

    At the root of a fake with isolated tenants the list holds every tenant's calls, oldest first;
    ?since= then counts within each tenant (every tenant numbers its own calls).
    """
    for name in request.query:
        if name not in FILTERS and name != "token":
            raise ApiError(400, [Violation(f"query.{name}", f"one of {', '.join(FILTERS)}", preview(name, 30))])
    fake = fake_of(request)
    query = request.query
    since = _int_param("since", query["since"], 0) if "since" in query else None
    journals = [fake.state.journal]
    if fake.tenants is not None and "tenant" not in request.match_info:
        journals += [tenant.state.journal for _name, tenant in fake.tenants.items()]
    records = [r for journal in journals for r in (journal.since(since) if since is not None else journal.snapshot())]
    calls = CallList(sorted(records, key=lambda r: r.time) if len(journals) > 1 else records)
    if "tenant" in query:
        wanted = query["tenant"].strip("/").lower()
        calls = calls.filter(lambda r: tenant_name(r).lower() == wanted)
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


def _view(request: web.Request) -> View:
    """At the root of isolated tenants each record's links go to its own tenant's routes."""
    fake = fake_of(request)
    if fake.tenants is None or "tenant" in request.match_info:
        here = request.match_info.get("tenant")
        base = f"/{here}" if here else ""
        return View(lambda r: base, lambda r: r.blob_id is not None and r.blob_id in fake.images)

    def owner(r: CallRecord) -> Fake:
        name = tenant_name(r)
        return (fake.tenants.find(name) if fake.tenants is not None and name else None) or fake

    return View(
        lambda r: f"/{tenant_name(r)}" if owner(r) is not fake else "",
        lambda r: r.blob_id is not None and r.blob_id in owner(r).images,
    )


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
        page = render_calls(list(calls), fake.state.journal.dropped, _view(request), token, dict(request.query))
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
    return json_response({"calls": [record_json(r) for r in calls], "dropped": fake.state.journal.dropped})


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
    return json_response(record_json(record))


async def image(request: web.Request) -> web.StreamResponse:
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
    if entry.data is None:
        return error_response(evicted_error(entry.blob_id, fake.images.budget, "path.blob_id"))
    return await _send_bytes(request, entry.data, content_type(entry.info.format))


async def _send_bytes(request: web.Request, data: bytes, ctype: str) -> web.StreamResponse:
    """Stream `data` in slices of the one stored object (no per-request copy of the image)."""
    resp = web.StreamResponse(
        headers={"Content-Security-Policy": IMAGE_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    )
    resp.content_type = ctype
    resp.content_length = len(data)
    await resp.prepare(request)
    if request.method != "HEAD":
        view = memoryview(data)
        for start in range(0, len(data), IMAGE_CHUNK):
            await resp.write(view[start : start + IMAGE_CHUNK])
    await resp.write_eof()
    return resp


async def reset(request: web.Request) -> web.Response:
    fake = fake_of(request)
    fake.reset()
    return json_response({"reset": True, "next_id": fake.next_id})


async def health(request: web.Request) -> web.Response:
    """What is running: version, uptime, the settings in force (no secrets), tenants and counts."""
    fake = fake_of(request)
    tenants = list(fake.tenants.items()) if fake.tenants is not None and "tenant" not in request.match_info else []
    everyone = [fake, *(t for _name, t in tenants)]
    return json_response(
        {
            "status": "ok",
            "version": VERSION,
            "uptime_s": round(time.time() - fake.started, 3),
            "next_id": fake.next_id,
            "calls": sum(len(f.state.journal) for f in everyone),
            "images": sum(len(f.images) for f in everyone),
            "faults": sum(len(f.faults) for f in everyone),
            "tenants": {"mode": fake.settings.tenants, "count": len(tenants), "names": [n for n, _t in tenants[:100]]},
            "settings": fake.settings.public(),
        }
    )


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


def add_debug_routes(app: web.Application) -> None:
    """Register the /_ routes; registered before the agent catch-all, so /_ is never an agent path."""
    for path, methods in ROUTES.items():
        guarded = _guarded(methods)
        app.router.add_route("*", path, guarded)
        app.router.add_route("*", "/{tenant}" + path, guarded)  # one tenant's view (--tenants isolated)
    app.router.add_route("*", "/_{tail:.*}", _guarded({}, fallback=unknown))
    app.router.add_route("*", "/{tenant}/_{tail:.*}", _guarded({}, fallback=unknown))
