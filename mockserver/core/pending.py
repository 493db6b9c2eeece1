"""A call's record, kept as its facts until someone looks: built once, on the first read.

The request path keeps what it learned about a call (`CallFacts`) in a `records.Pending`; the
journal builds the `CallRecord` from it when `/_calls`, an assertion, a listener (the state file,
a waiter) or the log first reads it, and keeps the built record instead. A record that falls out
of the bounded journal unread is never built. The built record is exactly what the eager path
built (tests/properties/test_deferred_records.py compares the two on generated requests).

What the facts hold is already final when the call is answered: strings, tuples and frozen
objects shared with the header cache, the body's summary (images as `ImageInfo`, never bytes)
and the call's own lists, which nothing touches after the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .answers import media_of
from .contract import Contract
from .errors import Violation
from .faults import Hit
from .negotiation import JSON_ANSWER, Answer
from .records import NO_AUTH, NO_LOCALE, AuthInfo, CallRecord, Locale, new_record


class CallFacts:
    """What is learned about a call as it passes each step; the record is built from it."""

    __slots__ = ("answer", "auth", "content_type", "extra", "fault", "locale", "request", "select", "warnings")

    def __init__(self) -> None:
        self.answer: Answer = JSON_ANSWER
        self.auth: AuthInfo = NO_AUTH
        self.locale: Locale = NO_LOCALE
        self.select: tuple[str, ...] = ()
        self.request: Mapping[str, Any] = {}  # the bound body, summarised (summary.py)
        self.warnings: list[Violation] = []
        self.content_type: str | None = None
        self.extra: dict[str, Any] = {}
        self.fault: Hit | None = None


NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def build(
    seq: int,
    started: float,
    method: str,
    path: str,
    prefix: str,
    contract: Contract | None,
    query: tuple[tuple[str, str], ...],
    headers: tuple[tuple[str, str], ...],
    call: CallFacts,
    status: int,
    blob_id: int | None,
    violations: tuple[Violation, ...],
    result: Any,
    ctype: str | None,
) -> CallRecord:
    """The `CallRecord` of one call from its facts: what a `records.Pending` keeps, in order."""
    fault = call.fault
    return new_record(  # CallRecord's fields, in order
        seq,
        started,
        method,
        path,
        prefix,
        contract.name if contract is not None else None,
        query,
        call.select,
        headers,
        call.auth,
        call.locale,
        call.request,
        status,
        blob_id,
        violations,
        tuple(call.warnings),
        call.content_type,
        media_of(ctype),
        result,
        fault.label if fault is not None else None,
        call.extra or NO_EXTRA,
    )


__all__ = ["NO_EXTRA", "CallFacts", "build"]
