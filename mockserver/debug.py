"""Routes under /_ for people and tests: the journal, stored images, reset, health."""

from __future__ import annotations

from aiohttp import web

from .codecs import encode_json
from .errors import ApiError, Violation
from .images import content_type

JSON = "application/json; charset=utf-8"


def _fake(request: web.Request):  # type: ignore[no-untyped-def]
    from .app import FAKE_KEY

    return request.app[FAKE_KEY]


def _json(value: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=encode_json(value), content_type="application/json", charset="utf-8")


def _error(err: ApiError) -> web.Response:
    return _json(err.body(), err.status)


async def calls(request: web.Request) -> web.Response:
    fake = _fake(request)
    journal = fake.state.journal
    return _json({"calls": [r.to_json() for r in journal.snapshot()], "dropped": journal.dropped})


async def image(request: web.Request) -> web.Response:
    fake = _fake(request)
    raw = request.match_info["blob_id"]
    entry = fake.images.entry(int(raw)) if raw.isdigit() else None
    if entry is None:
        return _error(ApiError(404, [Violation("path.blob_id", "the id of a stored image", repr(raw))]))
    return web.Response(body=entry.data, content_type=content_type(entry.info.format))


async def reset(request: web.Request) -> web.Response:
    _fake(request).reset()
    return _json({"reset": True})


async def health(request: web.Request) -> web.Response:
    fake = _fake(request)
    return _json({"status": "ok", "next_id": fake.next_id, "calls": len(fake.state.journal)})


def add_debug_routes(app: web.Application) -> None:
    app.router.add_get("/_calls", calls)
    app.router.add_get("/_images/{blob_id}", image)
    app.router.add_post("/_reset", reset)
    app.router.add_get("/_health", health)
