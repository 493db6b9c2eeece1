"""A call's facts, kept until someone looks: the journal entry the fake makes, its record built on the first read.

The request path fills a `CallFacts` as the call passes each step and journals it as it is;
`/_calls`, an assertion, a listener (the state file, a waiter) or the log builds the
`CallRecord` from it when it first reads it (`records.Pending`), and the record is kept. An
entry that falls out of the bounded journal unread is never built. The built record is exactly
what building it at once would give (tests/properties/test_deferred_records.py).

One object per call holds it all, so the journal entry is a single allocation beside the
values themselves; what the facts hold is final when the call is answered: strings, tuples,
frozen objects shared with the header cache, and the body's summary (images as `ImageInfo`,
never bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mockserver.core.answering.answers import media_of
from mockserver.core.answering.faults import Hit
from mockserver.core.headers.negotiation import JSON_ANSWER, Answer
from mockserver.core.vocabulary.contract import Contract
from mockserver.core.vocabulary.errors import Violation
from mockserver.core.vocabulary.records import NO_AUTH, NO_LOCALE, AuthInfo, CallRecord, Locale, Pending, new_record

NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


class CallFacts(Pending):
    """What is learned about one call as it passes each step; `record` builds its CallRecord."""

    __slots__ = (
        "answer",
        "auth",
        "blob_id",
        "content_type",
        "contract",
        "extra",
        "fault",
        "headers",
        "locale",
        "method",
        "path",
        "prefix",
        "query",
        "request",
        "response_type",
        "result",
        "select",
        "started",
        "status",
        "violations",
        "warnings",
    )

    def __init__(
        self,
        started: float,
        method: str,
        path: str,
        prefix: str,
        contract: Contract | None,
        query: tuple[tuple[str, str], ...],
    ) -> None:
        self.seq = 0
        self._record = None
        self.started = started
        self.method = method
        self.path = path
        self.prefix = prefix
        self.contract = contract
        self.query = query
        self.answer: Answer = JSON_ANSWER
        self.auth: AuthInfo = NO_AUTH
        self.locale: Locale = NO_LOCALE
        self.select: tuple[str, ...] = ()
        self.request: dict[str, Any] | None = None  # the bound body, summarised (summary.py)
        self.warnings: tuple[Violation, ...] = ()
        self.content_type: str | None = None
        self.extra: dict[str, Any] | None = None  # what authentication adds (an app token's owner)
        self.fault: Hit | None = None
        # Set once the call is answered:
        self.headers: tuple[tuple[str, str], ...] = ()
        self.status = 0
        self.blob_id: int | None = None
        self.violations: tuple[Violation, ...] = ()
        self.result: Any = None
        self.response_type: str | None = None  # the answer's Content-Type

    def answered(self, headers: tuple[tuple[str, str], ...], response_type: str | None) -> None:
        """The call is answered: keep its headers and answer type, let go of what its record does not hold."""
        self.headers = headers
        self.response_type = response_type
        self.answer = JSON_ANSWER  # negotiated per header set; the record keeps only the answer's type
        if not self.extra:
            self.extra = None

    def not_stored(self, status: int, violations: tuple[Violation, ...], response_type: str) -> None:
        """The call's commit failed: it is journaled again (same seq) as the error it was answered with."""
        self.status = status
        self.violations = violations
        self.blob_id = None
        self.result = None
        self.response_type = response_type
        self._record = None  # built again from these facts

    def fresh_extra(self) -> dict[str, Any]:
        """The dict authentication may add to (made only for the calls that authenticate afresh)."""
        extra = self.extra = {}
        return extra

    def _build(self) -> CallRecord:
        fault, contract = self.fault, self.contract
        return new_record(  # CallRecord's fields, in order
            self.seq,
            self.started,
            self.method,
            self.path,
            self.prefix,
            contract.name if contract is not None else None,
            self.query,
            self.select,
            self.headers,
            self.auth,
            self.locale,
            self.request if self.request is not None else {},
            self.status,
            self.blob_id,
            self.violations,
            self.warnings,
            self.content_type,
            media_of(self.response_type),
            self.result,
            fault.label if fault is not None else None,
            self.extra or NO_EXTRA,
        )


__all__ = ["NO_EXTRA", "CallFacts"]
