"""What every handler of the shell shares: the app's key to its fake, turning values into responses, reading ids."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from ..core.codecs import encode_json
from ..core.errors import ApiError
from ..core.exchange import Outcome
from ..core.fake import Fake

FAKE_KEY: web.AppKey[Fake] = web.AppKey("fake", Fake)
# ASCII digits only ("²".isdigit() is True, int("²") fails) and at most 18 of them, so every id
# fits SQLite's 64-bit integers and int() never meets Python's limit on digits.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def fake_of(request: web.Request) -> Fake:
    """The fake this request's app serves."""
    return request.app[FAKE_KEY]


def to_response(outcome: Outcome) -> web.Response:
    """The core's answer as an aiohttp response."""
    resp = web.Response(status=outcome.status, body=outcome.body, headers=outcome.headers)
    if outcome.content_type:
        resp.headers["Content-Type"] = outcome.content_type
    return resp


def json_response(value: object, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=encode_json(value), content_type="application/json", charset="utf-8", headers=headers
    )


def error_response(err: ApiError) -> web.Response:
    """An error in SuperOffice's shape, as JSON (the debug routes speak JSON only)."""
    return json_response(err.body(), err.status, err.headers)


def whole_number(raw: str) -> int | None:
    """An id or filter value from a path or query, or None when it is not a plain whole number."""
    text = raw.strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None
