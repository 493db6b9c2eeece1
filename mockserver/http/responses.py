"""What every handler of the shell shares: the app's key to its fake, turning values into responses, reading ids."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..core.body.codecs import encode_json
from ..core.exchange import CallFacts, Outcome
from ..core.fake import Fake
from ..core.tenants import check_tenant_name
from ..core.vocabulary.errors import ApiError, Violation, preview
from ..core.vocabulary.records import CallRecord

FAKE_KEY: web.AppKey[Fake] = web.AppKey("fake", Fake)
# Methods of the /_ routes that only read (DELETE /_calls of a tenant with no call clears nothing).
READING = frozenset({"GET", "HEAD", "DELETE"})
HOST_KEY: web.AppKey[str] = web.AppKey("online_host", str)  # Online mode: the host an app plays
# ASCII digits only ("²".isdigit() is True, int("²") fails) and at most 18 of them, so every id
# fits SQLite's 64-bit integers and int() never meets Python's limit on digits.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def root_of(request: web.Request) -> Fake:
    """The fake this request's app serves (with isolated tenants, the default tenant and the registry)."""
    return request.app[FAKE_KEY]


def fake_of(request: web.Request) -> Fake:
    """The fake a /_ route speaks for: the tenant named by ``/{tenant}/_…``, else the app's fake."""
    root = request.app[FAKE_KEY]
    name = request.match_info.get("tenant")
    if not name:
        return root
    if root.tenants is None:
        raise ApiError(
            404,
            [Violation("path", "a debug route without a tenant prefix (tenants are shared)", preview(name, 40))],
            message=f"This fake shares one state between prefixes; /{preview(name, 40)}/_… needs --tenants isolated.",
        )
    if request.method in READING:  # reading never makes a tenant: one with no call yet reads as empty
        check_tenant_name(name)
        return root.tenants.find(name) or root.unmade_tenant(name)
    return root.tenants.get(name)


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


def tenant_name(record: CallRecord | CallFacts) -> str:
    """The tenant a record belongs to: its URL prefix without slashes ('' for the default tenant)."""
    return record.prefix.strip("/")


def call_ref(root: Fake, record: CallRecord | CallFacts) -> str:
    """A record's reference, unique across the fake: ``#3``, or ``Cust2#1`` for a call of isolated tenant Cust2.

    Every isolated tenant numbers its own calls from 1, so where several tenants' calls are shown
    together (the root /_calls, the log) the seq alone would repeat.
    """
    name = tenant_name(record)
    owner = root.tenants.find(name) if root.tenants is not None and name else None
    return f"{owner.name}#{record.seq}" if owner is not None else f"#{record.seq}"


def record_json(record: CallRecord, root: Fake) -> dict[str, Any]:
    """A record as /_calls shows it: its own fields, its reference and the tenant it belongs to."""
    return {**record.to_json(), "ref": call_ref(root, record), "tenant": tenant_name(record)}


def whole_number(raw: str) -> int | None:
    """An id or filter value from a path or query, or None when it is not a plain whole number."""
    text = raw.strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None
