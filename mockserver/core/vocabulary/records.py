"""What the journal keeps of one call: `CallRecord`, with the `AuthInfo` and `Locale` it holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import Any

from mockserver.core.vocabulary._printable import encodable, printable
from mockserver.core.vocabulary.errors import KEPT_PER_CALL, Violation, capped
from mockserver.core.vocabulary.images import ImageInfo


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """Who a call claimed to be: the scheme and principal, never the secret."""

    scheme: str | None = None
    principal: str | None = None
    credential: str | None = None  # password, ticket, token or xsrf

    def to_json(self) -> dict[str, str | None]:
        return {"scheme": self.scheme, "principal": self.principal, "credential": self.credential}


@dataclass(frozen=True, slots=True)
class Locale:
    """The effective language, culture and timezone settings of a call."""

    language: str | None = None
    culture: str | None = None
    timezone: str | None = None
    include_tz_offset: bool = False
    browser_tz_offset: int | None = None
    app_token: bool = False
    translate: bool = True  # SO-Language `*` or `x` turns translation off

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "translate": self.translate,
            "culture": self.culture,
            "timezone": self.timezone,
            "include_tz_offset": self.include_tz_offset,
            "browser_tz_offset": self.browser_tz_offset,
            "app_token": self.app_token,
        }


NO_AUTH = AuthInfo()
NO_LOCALE = Locale()


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One request the fake received and how it answered. Immutable.

    `request` maps canonical property names to bound values; bytes properties hold an
    `ImageInfo` (size, sha256, format) — the bytes themselves live once in the image store.
    """

    seq: int
    time: float
    method: str
    path: str
    prefix: str
    operation: str | None
    query: tuple[tuple[str, str], ...]
    select: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    auth: AuthInfo
    locale: Locale
    request: Mapping[str, Any]
    status: int
    blob_id: int | None
    violations: tuple[Violation, ...]
    warnings: tuple[Violation, ...]
    content_type: str | None = None
    response_type: str | None = None
    result: Any = None
    fault: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def outcome(self) -> str:
        return "accepted" if self.accepted else "rejected"

    @property
    def type(self) -> str | None:
        value = self.request.get("Type")
        return value if isinstance(value, str) else None

    @property
    def description(self) -> str | None:
        value = self.request.get("Description")
        return value if isinstance(value, str) else None

    @property
    def image(self) -> ImageInfo | None:
        value = self.request.get("Image")
        return value if isinstance(value, ImageInfo) else None

    def header(self, name: str) -> str | None:
        """Return the first value of a header (case-insensitive), secrets redacted."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def to_json(self) -> dict[str, Any]:
        request: dict[str, Any] = {}
        for key, value in self.request.items():
            if isinstance(value, ImageInfo):
                request[key.lower()] = value.to_json()
            else:
                request[key] = value
        return {
            "seq": self.seq,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.method,
            "path": self.path,
            "prefix": self.prefix,
            "operation": self.operation,
            "query": [list(p) for p in self.query],
            "select": list(self.select),
            "headers": [list(p) for p in self.headers],
            "status": self.status,
            "outcome": self.outcome,
            "blob_id": self.blob_id,
            "request": request,
            "auth": self.auth.to_json(),
            "locale": self.locale.to_json(),
            "content_type": self.content_type,
            "response_type": self.response_type,
            "violations": [v.to_json() for v in self.violations],
            "warnings": [v.to_json() for v in self.warnings],
            "fault": self.fault,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


def guarded(record: CallRecord) -> CallRecord:
    """`record` within the journal's two guards (the record itself when it is within them already).

    - At most `errors.KEPT_PER_CALL` warnings and violations, the rest counted (`errors.capped`).
    - Only text UTF-8 can carry, so /_calls, the page and the state file can always show the
      record (_printable.py). Path, prefix, query, $select and Content-Type are client text made
      printable here; header values (redaction.py) and body strings (binding.py) arrive printable;
      any other text that still holds a surrogate (a message, a label) is escaped here too.
    """
    if len(record.warnings) > KEPT_PER_CALL or len(record.violations) > KEPT_PER_CALL or not _printable(record):
        return _guarded(record)
    return record


class Pending:
    """A journal entry whose record is not built yet: `seq` is set as it is journaled, `record` builds it.

    Subclasses keep the facts and say how to build (`_build`); exchange.CallFacts is the fake's.
    The record is built on the first read and kept. Two threads reading at once may both build
    it; they build equal records and one is kept.
    """

    __slots__ = ("_record", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self._record: CallRecord | None = None

    @property
    def record(self) -> CallRecord:
        """The call's record, built on the first read and kept."""
        record = self._record
        if record is None:
            record = self._record = self._build()
        return record

    def _build(self) -> CallRecord:
        raise NotImplementedError


def record_of(entry: CallRecord | Pending) -> CallRecord:
    """The record of a journal entry, built now if it was pending."""
    return entry if type(entry) is CallRecord else entry.record  # type: ignore[union-attr]


def _verbatim(text: str) -> bool:
    return (text.isascii() and "\\" not in text) or printable(text) is text


def _texts_encodable(entries: tuple[Violation, ...]) -> bool:
    for v in entries:
        for text in (v.location, v.expected, v.got):
            if not text.isascii() and not encodable(text):
                return False
    return True


def _encodable(value: Any) -> bool:
    """True when every string in `value` (nested in tuples, lists, mappings, dataclasses) is encodable."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, tuple | list):
        return all(_encodable(v) for v in value)
    if isinstance(value, Mapping):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if is_dataclass(value) and not isinstance(value, type):
        return all(_encodable(getattr(value, f.name)) for f in fields(value))
    return True  # None, numbers: no text


def _printable(r: CallRecord) -> bool:
    # Per call, so cheap: the usual record has ASCII text, no query, no warnings and no extra.
    # Headers (redaction.py), body values (binding.py) and the locale (checked against ASCII
    # patterns in locales.py) are printable as built; the rest is looked at here.
    principal, path, prefix, ctype = r.auth.principal, r.path, r.prefix, r.content_type
    return (
        ((path.isascii() and "\\" not in path) or _verbatim(path))
        and ((prefix.isascii() and "\\" not in prefix) or _verbatim(prefix))
        and (ctype is None or (ctype.isascii() and "\\" not in ctype) or _verbatim(ctype))
        and (not r.query or all(_verbatim(k) and _verbatim(v) for k, v in r.query))
        and (not r.select or all(_verbatim(p) for p in r.select))
        and (not r.violations or _texts_encodable(r.violations))
        and (not r.warnings or _texts_encodable(r.warnings))
        and (principal is None or encodable(principal))
        and (type(r.result) is not str or encodable(r.result))
        and (r.fault is None or encodable(r.fault))
        and (not r.extra or _encodable(r.extra))
    )


def _escaped(value: Any) -> Any:
    """`value` with every string that UTF-8 cannot carry made printable."""
    if isinstance(value, str):
        return value if encodable(value) else printable(value)
    if isinstance(value, tuple | list):
        return type(value)(_escaped(v) for v in value)
    if isinstance(value, Mapping):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type | ImageInfo):
        return replace(value, **{f.name: _escaped(getattr(value, f.name)) for f in fields(value)})
    return value


def _guarded(r: CallRecord) -> CallRecord:
    return replace(
        r,
        path=printable(r.path),
        prefix=printable(r.prefix),
        content_type=None if r.content_type is None else printable(r.content_type),
        query=tuple((printable(k), printable(v)) for k, v in r.query),
        select=tuple(printable(p) for p in r.select),
        headers=_escaped(r.headers),
        request=_escaped(r.request),
        violations=_escaped(capped(r.violations, "violations")),
        warnings=_escaped(capped(r.warnings, "warnings")),
        auth=_escaped(r.auth),
        locale=_escaped(r.locale),
        result=_escaped(r.result),
        fault=None if r.fault is None else _escaped(r.fault),
        extra=_escaped(r.extra),
    )
