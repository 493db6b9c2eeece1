"""Exceptions and the SuperOffice error shape.

Exception tree::

    MockServerError
    ├── ContractError      a contract file is broken (names file and key)
    ├── ConfigError        a setting is out of range or unreadable
    └── ApiError           a request is answered with a SuperOffice error body
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.core.vocabulary._printable import escape_surrogates

ERROR_SOURCE = "SuperOffice.Services.WebApi"

# The ErrorType each status reports. 400 and 404 follow what the real server sends; the
# others are this fake's choice (documented in docs/differences.md).
ERROR_TYPES: dict[int, str] = {
    400: "ArgumentException",
    401: "SoCredentialsException",
    404: "SoNotFoundException",
    405: "MethodNotAllowedException",
    406: "NotAcceptableException",
    413: "RequestEntityTooLargeException",
    415: "UnsupportedMediaTypeException",
    421: "WrongSubdomainException",
    429: "TooManyRequestsException",
    500: "Exception",
    503: "ServiceUnavailableException",
    507: "OverflowException",
}
ERROR_SOURCES: dict[int, str] = {404: "SuperOffice.Services.Implementation"}


class MockServerError(Exception):
    """Base of every error this package raises on purpose."""


class ContractError(MockServerError):
    """A contract file is broken; the message names the file and the key."""

    def __init__(self, source: Path, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.detail = message
        self.problems: list[ContractError] = [self]
        where = f"{source}: {key}" if key else str(source)
        super().__init__(f"{where}: {message}")

    @classmethod
    def many(cls, problems: list[ContractError]) -> ContractError:
        """One error standing for several problems of a file: the first names it, all are listed."""
        flat = [p for problem in problems for p in problem.problems]
        if len(flat) == 1:
            return flat[0]
        first = flat[0]
        combined = cls(first.source, first.key, first.detail)
        combined.problems = flat
        combined.args = ("\n".join(str(p.args[0]) for p in flat),)
        return combined


class ConfigError(MockServerError):
    """A configuration value is invalid."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing wrong (or, in a warnings list, suspicious) about a request.

    `location` says where (``body.Image``, ``header.Content-Type``), `expected` what the
    contract wants and `got` what arrived.
    """

    location: str
    expected: str
    got: str

    @property
    def message(self) -> str:
        return f"{self.location} must be {self.expected} (got {self.got})"

    def to_json(self) -> dict[str, str]:
        return {"location": self.location, "expected": self.expected, "got": self.got, "message": self.message}


# A record (and an error answer) lists at most this many warnings, and as many violations; the
# rest are counted in one last entry: ``warnings must be at most 20 kept per call (got 999980 more)``.
KEPT_PER_CALL = 20
_KEPT_EXPECTED = f"at most {KEPT_PER_CALL} kept per call"


def capped(entries: list[Violation] | tuple[Violation, ...], kind: str) -> tuple[Violation, ...]:
    """The first `KEPT_PER_CALL` entries and, when there were more, one last entry counting the rest.

    Idempotent: an entry that already counts dropped ones adds its count to the new one.
    """
    if len(entries) <= KEPT_PER_CALL or (len(entries) == KEPT_PER_CALL + 1 and _dropped(entries[-1])):
        return tuple(entries)
    kept: list[Violation] = []
    dropped = 0
    for entry in entries:
        counted = _dropped(entry)
        if counted:
            dropped += counted
        elif len(kept) < KEPT_PER_CALL:
            kept.append(entry)
        else:
            dropped += 1
    kept.append(Violation(kind, _KEPT_EXPECTED, f"{dropped} more"))
    return tuple(kept)


def _dropped(entry: Violation) -> int:
    if entry.expected != _KEPT_EXPECTED or entry.location not in {"warnings", "violations"}:
        return 0
    count = entry.got.partition(" ")[0]
    return int(count) if count.isdigit() else 0


@dataclass(eq=False)
class ApiError(MockServerError):
    """A request answered with a SuperOffice error body instead of a result."""

    status: int
    violations: list[Violation]
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if len(self.violations) > KEPT_PER_CALL:
            self.violations = list(capped(self.violations, "violations"))
        super().__init__(self.text)

    @property
    def text(self) -> str:
        if self.message:
            return self.message
        return "; ".join(v.message for v in self.violations) or f"HTTP {self.status}"

    def body(self) -> dict[str, Any]:
        """Return the error as SuperOffice's JSON error object."""
        return error_body(self.status, self.text, self.violations, self.error_type)


def error_body(
    status: int, message: str, violations: list[Violation] | tuple[Violation, ...] = (), error_type: str | None = None
) -> dict[str, Any]:
    """Build ``{"Error": true, "ErrorType": …, "Message": …, "ErrorSource": …, "Violations": […]}``."""
    return {
        "Error": True,
        "ErrorType": error_type or ERROR_TYPES.get(status, "Exception"),
        "Message": message,
        "ErrorSource": ERROR_SOURCES.get(status, ERROR_SOURCE),
        "Violations": [v.to_json() for v in violations],
    }


def preview(value: Any, limit: int = 11) -> str:
    """Quote a value for an error message, cut to `limit` characters with an ellipsis.

    Backslashes and quotes are escaped, and so are the characters UTF-8 cannot carry (a lone
    surrogate as ``\\ud800``, an undecodable header byte as ``\\xf8``; see _printable.py), so a
    message quoting client text can always be sent and recorded.
    """
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: limit + 1]).decode("latin-1")
    elif isinstance(value, str):
        text = value[: limit + 1]
    else:
        text = repr(value)
        return text if len(text) <= limit * 3 else text[: limit * 3] + "…"
    if len(text) > limit:
        text = text[:limit] + "…"
    return "'" + escape_surrogates(text.replace("\\", "\\\\").replace("'", "\\'")) + "'"


def describe_json_value(value: Any) -> str:
    """Say what a decoded JSON value is, for a `got` field: ``number 3``, ``array of 4``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {preview(value)}"
    if isinstance(value, list):
        return f"array of {len(value)}"
    if isinstance(value, dict):
        return f"object with {len(value)} properties"
    return type(value).__name__
