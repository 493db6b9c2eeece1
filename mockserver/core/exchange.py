"""What crosses between the HTTP shell and the core: a `RawRequest` in, an `Outcome` out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from multidict import CIMultiDict, CIMultiDictProxy

from mockserver.core.answering.faults import Hit
from mockserver.core.vocabulary.errors import ApiError
from mockserver.core.vocabulary.records import CallRecord, Pending, record_of
from mockserver.core.vocabulary.slots import slots_constructor


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


new_raw_request = slots_constructor(RawRequest)  # one or two per call: see slots.py


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


new_outcome = slots_constructor(Outcome)  # one per call: see slots.py

__all__ = ["Outcome", "RawRequest", "new_outcome", "new_raw_request"]
