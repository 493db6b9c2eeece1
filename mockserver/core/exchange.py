"""What crosses between the HTTP shell and the core, and what a call leaves in the journal.

A `RawRequest` comes in and an `Outcome` goes out. On the way the request path fills one
`CallFacts` as the call passes each step and journals it as it is; `/_calls`, an assertion, a
listener (the state file, a waiter) or the log builds the `CallRecord` from it when it first
reads it (`records.Pending`), and the record is kept. An entry that falls out of the bounded
journal unread is never built; the built record is exactly what building it at once would give
(tests/properties/test_deferred_records.py). What the facts hold is final when the call is
answered: strings, tuples, frozen objects shared with the header cache, and the body's summary
(images as `ImageInfo`, never bytes).

A request the shell refused before the pipeline could read it (`record_refusal`) is journaled
the same way, and answered in SuperOffice's shape.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from mockserver.core.answering.answers import media_of
from mockserver.core.answering.faults import Hit
from mockserver.core.body.codecs import encode_error
from mockserver.core.headers.negotiation import JSON_ANSWER, Answer
from mockserver.core.headers.redaction import redact_headers
from mockserver.core.vocabulary.contract import Contract
from mockserver.core.vocabulary.errors import ApiError, Violation
from mockserver.core.vocabulary.journal import CallLog
from mockserver.core.vocabulary.records import (
    NO_AUTH,
    NO_LOCALE,
    AuthInfo,
    CallRecord,
    Locale,
    Pending,
    guarded,
    record_of,
)

NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request as the HTTP shell saw it. `body_problem` is set when the body was not read.

    A bytearray body is the shell's own read buffer: decoding empties it as soon as the text is
    out, so a 20 MiB image is not held as bytes, text and parsed value all at once.
    """

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = field(default_factory=lambda: CIMultiDictProxy(CIMultiDict()))
    body: bytes | bytearray = b""
    body_problem: ApiError | None = None
    host: str = ""  # in Online mode, the name of the host it arrived on (sod2)

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
        query: str = "",
        host: str = "",
    ) -> RawRequest:
        """Build a request from plain values (for tests and the core's own callers)."""
        return cls(method.upper(), path, query, CIMultiDictProxy(CIMultiDict(headers or {})), body, None, host)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to send and the journal entry of the call (its record, or the facts to build it from)."""

    status: int
    body: bytes
    content_type: str | None
    headers: dict[str, str]
    entry: CallRecord | Pending
    fault: Hit | None = None  # the shell acts out delays, drops and truncation

    @property
    def record(self) -> CallRecord:
        """The call's record as the journal keeps it (built now if nobody has read it yet)."""
        return record_of(self.entry)


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
        prefix: str = "",
        contract: Contract | None = None,
        query: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__()
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
        self.request: dict[str, Any] | None = None  # the bound body, summarised (`Binding.summary`)
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
        return guarded(
            CallRecord(
                seq=self.seq,
                time=self.started,
                method=self.method,
                path=self.path,
                prefix=self.prefix,
                operation=contract.name if contract is not None else None,
                query=self.query,
                select=self.select,
                headers=self.headers,
                auth=self.auth,
                locale=self.locale,
                request=self.request if self.request is not None else {},
                status=self.status,
                blob_id=self.blob_id,
                violations=self.violations,
                warnings=self.warnings,
                content_type=self.content_type,
                response_type=media_of(self.response_type),
                result=self.result,
                fault=fault.label if fault is not None else None,
                extra=self.extra or NO_EXTRA,
            )
        )


def record_refusal(journal: CallLog, method: str, path: str, err: ApiError) -> Outcome:
    """Journal a request the HTTP layer refused (or a crash while answering it) and build its JSON answer."""
    call = CallFacts(time.time(), method, path)
    call.status = err.status
    call.violations = tuple(err.violations)
    call.answered((), "application/json")
    journal.append(call)
    return Outcome(err.status, encode_error(err.body(), "json"), "application/json; charset=utf-8", {}, call)


def record_online_refusal(
    journal: CallLog, raw: RawRequest, contract: Contract | None, prefix: str, err: ApiError
) -> Outcome:
    """Journal an agent call a tenant's Online life refused (421 wrong host, 503 away), with its host; answer JSON."""
    call = CallFacts(time.time(), raw.method, raw.path, prefix, contract)
    call.status = err.status
    call.violations = tuple(err.violations)
    call.content_type = raw.headers.get("Content-Type")
    call.extra = {"host": raw.host} if raw.host else None
    call.answered(redact_headers(raw.headers), "application/json")
    journal.append(call)
    body = encode_error(err.body(), "json")
    return Outcome(err.status, body, "application/json; charset=utf-8", dict(err.headers), call)


__all__ = ["NO_EXTRA", "CallFacts", "Outcome", "RawRequest", "record_online_refusal", "record_refusal"]
