"""What the journal keeps of one call: `CallRecord`, with the `AuthInfo` and `Locale` it holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import Violation
from .images import ImageInfo
from .slots import slots_constructor


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


# The core builds one per call: through the slots' descriptors (see slots.py).
new_record = slots_constructor(CallRecord)
