"""Routes under /_ for people and tests: the journal, stored images, reset, health.

These requests are not journaled, so that looking at the journal never changes it. With an
admin token set, every /_ route wants ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``;
`guard` refuses what a web page may have sent on someone's behalf (see there).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from ..core import VERSION
from ..core.storage.errors import evicted_error
from ..core.vocabulary.errors import ApiError, Violation, preview
from ..core.vocabulary.images import content_type
from .calls import clear_calls, list_calls, one_call
from .connections import CONNECTIONS_KEY
from .faults import FAULT_ROUTES
from .guard import debug_routes_status, refusal
from .responses import error_response, fake_of, json_response, root_of, whole_number

log = logging.getLogger("mockserver")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A stored image is whatever a client sent; served on our origin it must not run scripts (SVG).
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# Images go out in slices of the stored bytes, each written once the client took the last:
# a slow reader holds one slice of buffer, not a copy of the image.
IMAGE_CHUNK = 256 * 1024


def _authorised(request: web.Request, token: str) -> bool:
    expected = as_sent(token)
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(as_sent(value.strip()), expected):
        return True
    given = request.query.get("token")
    return given is not None and hmac.compare_digest(as_sent(given), expected)


def as_sent(text: str) -> bytes:
    """A header or query value as bytes to compare: aiohttp keeps bytes that are not UTF-8 as lone
    surrogates (``\\xff`` arrives as ``'\\udcff'``), which a plain ``encode()`` refuses with a 500."""
    return text.encode("utf-8", "surrogatepass")


def _guarded(methods: Mapping[str, Handler], fallback: Handler | None = None) -> Handler:
    """One /_ resource: check the admin token, then dispatch on the method (405 in the error shape)."""
    allow = ", ".join(sorted(methods))

    async def handle(request: web.Request) -> web.StreamResponse:
        settings = root_of(request).settings  # the token and the guards are the whole fake's, not a tenant's
        token = settings.admin_token
        if token and not _authorised(request, token):
            header = request.headers.get("Authorization")
            scheme = header.strip().partition(" ")[0] if header else ""
            scheme = scheme if scheme.lower() in ("bearer", "basic", "soticket") else ""
            # Nothing of the value is repeated: it may be some other credential sent by mistake.
            got = "no Authorization header and no ?token=" if header is None else f"another {scheme or 'empty'} value"
            return error_response(
                ApiError(
                    401,
                    [Violation("header.Authorization", "Bearer <admin token> or ?token=<admin token>", got)],
                    headers={"WWW-Authenticate": 'Bearer realm="mockserver admin"'},
                    message="The /_ routes of this fake need its admin token (--admin-token).",
                )
            )
        refused = refusal(request, settings)
        if refused is not None:
            log.warning("refused %s %s: %s", request.method, request.path, refused.violations[0].message)
            return error_response(refused)
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


async def image(request: web.Request) -> web.StreamResponse:
    fake = fake_of(request)
    raw = request.match_info["blob_id"]
    blob_id = whole_number(raw)
    if blob_id is None:
        return error_response(
            ApiError(400, [Violation("path.blob_id", "a blob id (a whole number)", preview(raw, 20))])
        )
    entry = fake.images.entry(blob_id)
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
            "debug_routes": debug_routes_status(fake.settings),
            "connections": connections.to_json() if (connections := request.app.get(CONNECTIONS_KEY)) else None,
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


async def favicon(request: web.Request) -> web.Response:
    """What a browser asks for beside the /_calls page: nothing, and not a call to journal."""
    return web.Response(status=204, headers={"Cache-Control": "max-age=86400"})


def unknown_among(routes: Mapping[str, Mapping[str, Handler]]) -> Handler:
    """`unknown` for a set of routes other than ROUTES."""

    async def handle(request: web.Request) -> web.Response:
        known = ", ".join(f"{m} {p}" for p, methods in routes.items() for m in methods)
        violation = Violation("path", f"a debug route ({known})", preview(request.path, 60))
        return error_response(ApiError(404, [violation], message=f"No debug route {request.path}."))

    return handle


UNKNOWN_ROUTE_KEY: web.AppKey[Handler] = web.AppKey("unknown_debug_route")


def unknown_route(request: web.Request) -> Awaitable[web.StreamResponse]:
    """The answer to a /_ path no debug route serves (for the app's catch-all to return)."""
    return request.app[UNKNOWN_ROUTE_KEY](request)


def add_debug_routes(
    app: web.Application, routes: Mapping[str, Mapping[str, Handler]] | None = None, *, tenants: bool = False
) -> None:
    """Register the /_ routes, before the caller's catch-all, which sends other /_ paths to `unknown_route`.

    `routes` replaces ROUTES (a proxy serves its own set). With `tenants` (isolated tenants) each
    route is served under ``/{tenant}`` too, as that tenant's view.
    """
    served = ROUTES if routes is None else routes
    fallback = _guarded({}, fallback=unknown if routes is None else unknown_among(served))
    for path, methods in served.items():
        guarded = _guarded(methods)
        app.router.add_route("*", path, guarded)
        if tenants:
            app.router.add_route("*", "/{tenant}" + path, guarded)
    # Other /_ paths reach the caller's catch-all, which answers them with this (`unknown_route`):
    # a "/_{tail}" route of its own would be one more pattern every agent request is tried against.
    app[UNKNOWN_ROUTE_KEY] = fallback
    if tenants:
        app.router.add_route("*", "/{tenant}/_{tail:.*}", fallback)
    app.router.add_get("/favicon.ico", favicon)
