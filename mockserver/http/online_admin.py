"""The /_tenants routes of Online mode: see every tenant's host and state, move a tenant, set its state.

Merged into debug.ROUTES like the fault routes, so the admin token and the guards cover them and
the /_ 404 lists them. Without Online mode they answer 404 saying how to turn it on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..core.online.notify import state_change_url
from ..core.online.states import context_identifier
from ..core.online.tenant_life import OnlineLife
from ..core.vocabulary.errors import ApiError, Violation, preview
from .responses import json_response, root_of


def _life(request: web.Request) -> OnlineLife:
    online = root_of(request).online
    if online is None:
        raise ApiError(
            404,
            [Violation("setting.online_hosts", "a list of hosts (--online-hosts sod,sod2,sod3)", "unset")],
            message=f"{request.path} is a route of Online mode; start the fake with --online-hosts sod,sod2,sod3.",
        )
    return online


async def _json_object(request: web.Request, example: str) -> dict[str, Any]:
    media_type = request.content_type.lower()
    if media_type != "application/json":
        got = request.headers.get("Content-Type")
        raise ApiError(
            415,
            [Violation("header.Content-Type", "application/json", preview(got, 40) if got else "no Content-Type")],
            message=f"{request.method} {request.path} takes a JSON body sent as Content-Type: application/json.",
        )
    try:
        data = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, [Violation("body", f"a JSON object such as {example}", preview(str(exc), 60))]) from None
    if not isinstance(data, dict):
        raise ApiError(400, [Violation("body", f"a JSON object such as {example}", preview(data, 30))])
    return data


def _count(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, [Violation(f"body.{key}", "a whole number", preview(value, 30))])
    return value


def _seconds(data: dict[str, Any]) -> float | None:
    value = data.get("seconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, [Violation("body.seconds", "a number of seconds above 0", preview(value, 30))])
    return float(value)


def _text(data: dict[str, Any], key: str, example: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ApiError(
            400,
            [Violation(f"body.{key}", f"a text such as {example}", "nothing" if value is None else preview(value, 30))],
        )
    return value


def _unknown_keys(data: dict[str, Any], known: tuple[str, ...]) -> None:
    extra = sorted(set(data) - set(known))
    if extra:
        raise ApiError(400, [Violation("body", f"only the keys {', '.join(known)}", ", ".join(map(str, extra)))])


async def list_tenants(request: web.Request) -> web.Response:
    online = _life(request)
    changes = [
        {"tenant": c.tenant, "kind": c.kind, "host": c.host, "state": c.state, "before": c.before, "time": c.time}
        for c in list(online.changes)
    ]
    return json_response({**online.to_json(), "changes": changes})


async def one_tenant(request: web.Request) -> web.Response:
    online = _life(request)
    name = context_identifier(request.match_info["ctx"])
    life = online.find(name)
    if life is None:
        raise ApiError(
            404, [Violation("path.ContextIdentifier", "a tenant this fake knows (GET /_tenants)", preview(name, 40))]
        )
    return json_response({**life.to_json(), "status": online.status(name)})


async def move_tenant(request: web.Request) -> web.Response:
    online = _life(request)
    name = context_identifier(request.match_info["ctx"])
    data = await _json_object(request, '{"host": "sod3"}')
    _unknown_keys(data, ("host", "after_calls"))
    life = online.move(name, _text(data, "host", "sod3"), after_calls=_count(data, "after_calls"))
    return json_response({**life.to_json(), "status": online.status(name)})


async def set_state(request: web.Request) -> web.Response:
    online = _life(request)
    name = context_identifier(request.match_info["ctx"])
    data = await _json_object(request, '{"state": "OfflineMaintenance"}')
    _unknown_keys(data, ("state", "calls", "seconds"))
    life = online.set_state(
        name, _text(data, "state", "OfflineMaintenance"), calls=_count(data, "calls"), seconds=_seconds(data)
    )
    return json_response({**life.to_json(), "status": online.status(name)})


async def notifications(request: web.Request) -> web.Response:
    _life(request)
    notifier = root_of(request).notifier
    assert notifier is not None  # there is one in Online mode
    return json_response(notifier.to_json())


async def set_notification_url(request: web.Request) -> web.Response:
    _life(request)
    notifier = root_of(request).notifier
    assert notifier is not None
    data = await _json_object(request, '{"url": "http://127.0.0.1:9000/state-change"}')
    _unknown_keys(data, ("url",))
    notifier.url = state_change_url(data.get("url"))
    return json_response(notifier.to_json())


ONLINE_ROUTES: dict[str, dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = {
    "/_tenants": {"GET": list_tenants},
    "/_tenants/{ctx}": {"GET": one_tenant},
    "/_tenants/{ctx}/move": {"POST": move_tenant},
    "/_tenants/{ctx}/state": {"POST": set_state},
    "/_notifications": {"GET": notifications, "POST": set_notification_url},
}

__all__ = ["ONLINE_ROUTES"]
