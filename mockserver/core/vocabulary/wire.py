"""A call record back from the JSON /_calls shows (`CallRecord.to_json`): what a remote client reads.

The inverse of `to_json` but for what /_calls leaves out: the time comes back to the
millisecond, `result` (the answer's value, which /_calls does not show) is None, and a request
value that was an `ImageInfo` is one again (under its property name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.core.vocabulary.errors import Violation
from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.records import AuthInfo, CallRecord, Locale

IMAGE_KEYS = frozenset({"size", "sha256", "format"})


def _violations(items: Any) -> tuple[Violation, ...]:
    return tuple(Violation(v["location"], v["expected"], v["got"]) for v in items or ())


def _request(values: dict[str, Any]) -> dict[str, Any]:
    """`to_json` writes an image's facts under the property name in lower case: give it back its name."""
    request: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == IMAGE_KEYS:
            request[key[:1].upper() + key[1:]] = ImageInfo(value["size"], value["sha256"], value["format"])
        else:
            request[key] = value
    return request


def record_from_json(data: dict[str, Any]) -> CallRecord:
    """A `CallRecord` from one entry of /_calls (raises KeyError or TypeError on something else)."""
    stamp = data["time"]
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if isinstance(stamp, str) else stamp
    return CallRecord(
        seq=data["seq"],
        time=when,
        method=data["method"],
        path=data["path"],
        prefix=data["prefix"],
        operation=data["operation"],
        query=tuple(tuple(p) for p in data["query"]),
        select=tuple(data["select"]),
        headers=tuple(tuple(p) for p in data["headers"]),
        auth=AuthInfo(**data["auth"]),
        locale=Locale(**data["locale"]),
        request=_request(data["request"]),
        status=data["status"],
        blob_id=data["blob_id"],
        violations=_violations(data["violations"]),
        warnings=_violations(data["warnings"]),
        content_type=data.get("content_type"),
        response_type=data.get("response_type"),
        result=data.get("result"),
        fault=data.get("fault"),
        extra=data.get("extra") or {},
    )
