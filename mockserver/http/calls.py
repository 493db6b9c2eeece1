"""The journal's /_ routes: /_calls as JSON or the HTML page (filters, tenants), one call, clearing."""

from __future__ import annotations

from aiohttp import web

from ..core.fake import Fake
from ..core.headers import media
from ..core.vocabulary.errors import ApiError, Violation, preview
from ..core.vocabulary.journal import CallList
from ..core.vocabulary.records import CallRecord
from .page import View, render_calls
from .responses import (
    call_ref,
    error_response,
    fake_of,
    json_response,
    record_json,
    root_of,
    tenant_name,
    whole_number,
)

FILTERS = ("since", "limit", "outcome", "tenant")
OUTCOMES = ("accepted", "rejected")
PAGE_LIMIT = 200  # the HTML page shows at most this many calls unless ?limit= says otherwise


def int_param(name: str, raw: str, minimum: int) -> int:
    number = whole_number(raw)
    if number is not None and number >= minimum:
        return number
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
    since = int_param("since", query["since"], 0) if "since" in query else None
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
    limit = int_param("limit", query["limit"], 1) if "limit" in query else default_limit
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
        lambda r: call_ref(fake, r),
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
    root = root_of(request)
    return json_response({"calls": [record_json(r, root) for r in calls], "dropped": fake.state.journal.dropped})


async def clear_calls(request: web.Request) -> web.Response:
    journal = fake_of(request).state.journal
    cleared = len(journal)
    journal.clear()
    return json_response({"cleared": cleared})


async def one_call(request: web.Request) -> web.Response:
    raw = request.match_info["seq"]
    try:
        seq = int_param("seq", raw, 1)
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
    return json_response(record_json(record, root_of(request)))
