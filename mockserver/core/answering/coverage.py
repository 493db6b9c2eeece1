"""Contract coverage: which parts of the contracts the recorded calls exercised, and which never.

Everything is computed from the journal, so it costs nothing while requests are served and
sees exactly what the fake saw. Rejected calls count too: a test that sends XML and gets a
400 has still exercised the XML request path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from multidict import CIMultiDict

from mockserver.core.answering.behaviours import BEHAVIOUR_ERRORS
from mockserver.core.headers import media
from mockserver.core.headers.auth import SCHEMES
from mockserver.core.headers.negotiation import format_from_content_type
from mockserver.core.vocabulary.contract import Contract, ContractSet
from mockserver.core.vocabulary.records import CallRecord

# Statuses the shared pipeline can answer for any call: validation, auth, method, Accept
# (strict mode), body size and Content-Type.
COMMON_ERRORS = (400, 401, 405, 406, 413, 415)
AUTH_SCHEMES = ("Basic", "Basic ticket", "SOTicket", "Bearer", "XSRF")


def error_statuses(contract: Contract) -> tuple[int, ...]:
    """Every error status the fake can answer for `contract`."""
    return tuple(sorted({*COMMON_ERRORS, *BEHAVIOUR_ERRORS.get(contract.behaviour, ())}))


def _split(possible: Iterable[Any], seen: Iterable[Any]) -> dict[str, Any]:
    """Split what the contract allows into exercised and never tried; `of` counts the allowed.

    Seen values the contract does not list (a stray status, no credentials) are shown as
    exercised but do not count towards `of`.
    """
    seen_set = {s for s in seen if s is not None}
    ordered = list(dict.fromkeys(possible))
    extra = sorted((s for s in seen_set if s not in ordered), key=str)
    return {
        "exercised": [p for p in ordered if p in seen_set] + extra,
        "never": [p for p in ordered if p not in seen_set],
        "of": len(ordered),
    }


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return media.parse_media_type(value).type
    except media.MediaError:
        return None


def _answered_as(record: CallRecord, contract: Contract) -> str | None:
    """The response type the call's Accept chose (errors may be answered as JSON regardless)."""

    # Negotiate as the core did: the request's own format wins where Accept leaves a choice.
    own = format_from_content_type(CIMultiDict(record.headers), contract.response_media_types)
    accept = record.header("Accept")
    items = media.parse_accept(accept)[0] if accept and accept.strip() else []
    return media.negotiate(items, contract.response_media_types, prefer=own) if items else own


def _auth_scheme(record: CallRecord) -> str:
    scheme = record.auth.scheme
    if scheme is None:
        # Rejected before auth finished: the redacted header still names the scheme tried.
        value = record.header("Authorization")
        if value is not None:
            return SCHEMES.get(value.strip().partition(" ")[0].lower(), "other")
        return "XSRF" if record.header("X-XSRF-TOKEN") is not None else "none"
    if scheme == "Basic" and record.auth.credential == "ticket":
        return "Basic ticket"
    return scheme


def _operation(contract: Contract, calls: list[CallRecord]) -> dict[str, Any]:
    runs = [c for c in calls if c.method == contract.method]
    sent = [c.request for c in runs]
    optional = [p.name for p in contract.properties if not p.required]
    return {
        "called": len(runs),
        "accepted": sum(1 for c in runs if c.accepted),
        "request_media_types": _split(contract.request_media_types, (_media_type(c.content_type) for c in runs)),
        "accept_types": _split(contract.response_media_types, (_answered_as(c, contract) for c in runs)),
        "auth_schemes": _split(AUTH_SCHEMES, (_auth_scheme(c) for c in runs)),
        "enums": {
            p.name: _split(p.enum.members, (r.get(p.name) for r in sent))
            for p in contract.properties
            if p.enum is not None
        },
        "optional_properties": _split(optional, (name for r in sent for name in r if name in optional)),
        "error_statuses": _split(error_statuses(contract), (c.status for c in runs if c.status >= 400)),
    }


def _gaps(name: str, report: dict[str, Any]) -> list[str]:
    if not report["called"]:
        return [f"{name}: never called"]
    labels = {
        "request_media_types": "request media type",
        "accept_types": "Accept type",
        "auth_schemes": "auth scheme",
        "optional_properties": "optional property",
        "error_statuses": "error status",
    }
    out = [f"{name}: {label} {item}" for key, label in labels.items() for item in report[key]["never"]]
    if not report["accepted"]:
        out.insert(0, f"{name}: never accepted")
    for prop, split in report["enums"].items():
        out += [f"{name}: {prop} = {value}" for value in split["never"]]
    return out


def _count(report: dict[str, Any]) -> tuple[int, int]:
    keys = ("request_media_types", "accept_types", "auth_schemes", "optional_properties", "error_statuses")
    splits = [report[k] for k in keys] + list(report["enums"].values())
    total = sum(s["of"] for s in splits) + 1  # +1: the operation itself
    return sum(s["of"] - len(s["never"]) for s in splits) + (1 if report["called"] else 0), total


def compute(
    contracts: ContractSet | Iterable[Contract], calls: Iterable[CallRecord], *, dropped: int = 0
) -> dict[str, Any]:
    """Build the coverage report of `contracts` from journal records."""
    records = list(calls)
    by_op: dict[str, Any] = {}
    gaps: list[str] = []
    exercised = total = 0
    for contract in contracts:
        report = _operation(contract, [r for r in records if r.operation == contract.name])
        by_op[contract.name] = report
        gaps += _gaps(contract.name, report)
        done, of = _count(report)
        exercised, total = exercised + done, total + of
    return {
        "operations": _split(by_op, (n for n, r in by_op.items() if r["called"])),
        "by_operation": by_op,
        "never_tried": gaps,
        "exercised": exercised,
        "total": total,
        "percent": round(100 * exercised / total, 1) if total else 100.0,
        "calls": len(records),
        "dropped": dropped,
    }
