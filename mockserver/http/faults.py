"""Faults on the socket, and the /_faults routes.

The core decided which fault fires (`core.faults`); here it is acted out: wait, hang up, or
send half the body and hang up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..core.answering.faults import Hit, parse_fault
from ..core.exchange import Outcome
from ..core.vocabulary.errors import ApiError, Violation, preview
from .responses import error_response, fake_of, json_response, to_response, whole_number


async def act_out(hit: Hit, request: web.Request, outcome: Outcome) -> web.StreamResponse:
    """Act the fault out on the socket: wait, hang up, or send half the body and hang up."""
    fault = hit.fault
    if fault.delay_ms:
        await _wait_while_connected(request, fault.delay_ms / 1000)
    transport = request.transport
    if fault.kind == "drop":
        if transport is not None:
            transport.close()
        return web.Response()  # never written: the transport is closed
    response = to_response(outcome)
    if fault.kind == "truncate":
        body = outcome.body
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        if transport is not None:
            transport.close()
        return stream
    return response


async def _wait_while_connected(request: web.Request, seconds: float) -> None:
    """Sleep, but stop once the client has hung up: nobody is left to answer, and shutdown need not wait."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        await asyncio.sleep(min(left, 0.05))
        transport = request.transport
        if transport is None or transport.is_closing():
            return


# ---- /_faults -----------------------------------------------------------------------------


async def list_faults(request: web.Request) -> web.Response:
    return json_response({"faults": [f.to_json() for f in fake_of(request).faults]})


async def add_faults(request: web.Request) -> web.Response:
    """Accept one fault object or a list of them; all are checked before any is added."""
    fake = fake_of(request)
    try:
        _json_content_type(request)
        try:
            data = json.loads(await request.read() or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, [Violation("body", "a JSON fault object or a list of them", str(exc))]) from None
        items = data if isinstance(data, list) else [data]
        checked = []
        for i, item in enumerate(items):
            where = f"faults[{i}]" if isinstance(data, list) else "fault"
            if not isinstance(item, dict):
                raise ApiError(
                    400,
                    [Violation(where, 'a JSON object such as {"kind": "status", "status": 503}', preview(item, 30))],
                )
            fault = parse_fault(item, where)
            checked.append((fault, fake.resolve_operation(fault.path)))
    except ApiError as err:
        return error_response(err)
    handles = [fake.faults.add(f, op) for f, op in checked]
    return json_response({"faults": [h.to_json() for h in handles]}, 201)


def _json_content_type(request: web.Request) -> None:
    """A JSON body says so: a form or text/plain body is what a cross-site page can send unasked."""
    media_type = request.content_type.lower()  # aiohttp's default without a header: application/octet-stream
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return
    got = request.headers.get("Content-Type")
    raise ApiError(
        415,
        [Violation("header.Content-Type", "application/json", preview(got, 40) if got else "no Content-Type")],
        message="POST /_faults takes a JSON body sent as Content-Type: application/json.",
    )


async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"cleared": fake_of(request).faults.clear()})


async def remove_fault(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    number = whole_number(raw)
    if number is not None and fake_of(request).faults.remove(number):
        return json_response({"removed": number})
    return error_response(
        ApiError(404, [Violation("path.id", "the id of an injected fault (GET /_faults)", preview(raw, 20))])
    )


# Merged into debug.ROUTES, so the admin token guards them and the /_ 404 lists them.
FAULT_ROUTES: dict[str, dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = {
    "/_faults": {"GET": list_faults, "POST": add_faults, "DELETE": clear_faults},
    "/_faults/{id}": {"DELETE": remove_fault},
}
