"""What crosses between the HTTP shell and the core: a `RawRequest` in, an `Outcome` out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from multidict import CIMultiDict, CIMultiDictProxy

from .errors import ApiError
from .faults import Hit
from .records import CallRecord
from .slots import slots_constructor


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

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
        query: str = "",
    ) -> RawRequest:
        """Build a request from plain values (for tests and the core's own callers)."""
        return cls(method.upper(), path, query, CIMultiDictProxy(CIMultiDict(headers or {})), body)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to send and the record that was journaled."""

    status: int
    body: bytes
    content_type: str | None
    headers: dict[str, str]
    record: CallRecord
    fault: Hit | None = None  # the shell acts out delays, drops and truncation


new_outcome = slots_constructor(Outcome)  # one per call: see slots.py

__all__ = ["Outcome", "RawRequest", "new_outcome"]
