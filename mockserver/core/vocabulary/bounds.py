"""How many bytes a call record holds, and the same record cut down to fit `RECORD_CAP`.

A record keeps what a person needs to see what was sent: names, sizes, the first characters of
long values and their digest. A record over the cap keeps every text of at most `TEXT_KEPT`
characters as it is; a longer one becomes its first `TEXT_KEPT` characters and a note of its
length and SHA-256 (``… [20971520 characters, sha256 1f2e…]``). At most `PAIRS_KEPT` headers
and query parameters are kept, the rest counted in one last pair. Should that still be over
the cap (hostile warnings, say), the texts are cut to `TEXT_KEPT_HARD` characters.

`weight` is an estimate of what an entry holds (its texts' UTF-8 bytes plus a fixed
`RECORD_OVERHEAD` for the objects): what the journal's byte budget counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from typing import Any

from mockserver.core.vocabulary.errors import Violation
from mockserver.core.vocabulary.images import ImageInfo

RECORD_CAP = 64 * 1024
TEXT_KEPT = 256
TEXT_KEPT_HARD = 32
PAIRS_KEPT = 64
RECORD_OVERHEAD = 512  # the record's own objects: a CallRecord, its tuples, AuthInfo, Locale
VALUE_OVERHEAD = 16  # a number, None, an ImageInfo's share
MORE = "…"


def text_weight(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _weigh(value: Any) -> int:
    kind = type(value)
    if kind is str:
        return text_weight(value)
    if value is None or kind is int or kind is bool or kind is float or kind is ImageInfo:
        return VALUE_OVERHEAD
    if kind is tuple or kind is list:
        return sum(map(_weigh, value)) + 8 * len(value)
    if kind is dict or isinstance(value, Mapping):
        return sum(_weigh(k) + _weigh(v) + 16 for k, v in value.items())
    if kind is Violation:
        return text_weight(value.location) + text_weight(value.expected) + text_weight(value.got) + 48
    if isinstance(value, str):
        return text_weight(value)
    if isinstance(value, tuple | list):
        return sum(map(_weigh, value)) + 8 * len(value)
    if is_dataclass(value) and not isinstance(value, type):
        return sum(_weigh(getattr(value, f.name)) for f in fields(value))
    return VALUE_OVERHEAD


def _pairs_weight(pairs: tuple[tuple[str, str], ...]) -> int:
    total = 0
    for key, value in pairs:
        total += (len(key) if key.isascii() else text_weight(key)) + 16
        total += len(value) if value.isascii() else text_weight(value)
    return total


# A client sends the same header set call after call (the header cache hands out the same tuple):
# its weight is worked out once. The memo keeps the tuple itself, so its id cannot be reused.
_last_headers: tuple[Any, int] = ((), 0)


def weight(entry: Any) -> int:
    """The bytes a journal entry (a `CallRecord` or the facts it will be built from) holds, estimated."""
    global _last_headers
    headers = entry.headers
    last, size = _last_headers
    if headers is not last:
        size = _pairs_weight(headers)
        _last_headers = (headers, size)
    path = entry.path
    total = RECORD_OVERHEAD + size + (len(path) if path.isascii() else text_weight(path))
    if entry.query:
        total += _pairs_weight(entry.query)
    if entry.select:
        total += _weigh(entry.select)
    request = entry.request
    if request:
        for key, value in request.items():
            total += len(key) + 16
            total += len(value) if type(value) is str and value.isascii() else _weigh(value)
    if entry.warnings:
        total += _weigh(entry.warnings)
    if entry.violations:
        total += _weigh(entry.violations)
    if entry.extra:
        total += _weigh(entry.extra)
    result = entry.result
    if result is not None:
        total += _weigh(result)
    principal = entry.auth.principal
    if principal:
        total += text_weight(principal)
    return total


def trimmed(text: str, kept: int = TEXT_KEPT) -> str:
    """`text` if at most `kept` characters; else its start and a note of its length and SHA-256."""
    if len(text) <= kept:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{text[:kept]}{MORE} [{len(text)} characters, sha256 {digest}]"


def _trim(value: Any, kept: int) -> Any:
    if isinstance(value, str):
        return trimmed(value, kept)
    if isinstance(value, tuple | list):
        return type(value)(_trim(v, kept) for v in value)
    if isinstance(value, Mapping):
        return {_trim(k, kept): _trim(v, kept) for k, v in value.items()}
    if isinstance(value, Violation):
        return Violation(trimmed(value.location, kept), trimmed(value.expected, kept), trimmed(value.got, kept))
    if is_dataclass(value) and not isinstance(value, type | ImageInfo):
        return replace(value, **{f.name: _trim(getattr(value, f.name), kept) for f in fields(value)})
    return value


def _pairs(pairs: tuple[tuple[str, str], ...], kept: int, what: str) -> tuple[tuple[str, str], ...]:
    out = tuple((trimmed(k, kept), trimmed(v, kept)) for k, v in pairs[:PAIRS_KEPT])
    if len(pairs) > PAIRS_KEPT:
        rest = pairs[PAIRS_KEPT:]
        size = sum(text_weight(k) + text_weight(v) for k, v in rest)
        out += ((MORE, f"{len(rest)} more {what} ({size} bytes) not kept"),)
    return out


def bounded(record: Any) -> Any:
    """`record` (a CallRecord) if it holds at most `RECORD_CAP` bytes; else the same record cut down to fit."""
    if weight(record) <= RECORD_CAP:
        return record
    cut = record
    for kept in (TEXT_KEPT, TEXT_KEPT_HARD):
        cut = replace(
            record,
            path=trimmed(record.path, kept),
            prefix=trimmed(record.prefix, kept),
            query=_pairs(record.query, kept, "query parameters"),
            select=_trim(record.select[:PAIRS_KEPT], kept),
            headers=_pairs(record.headers, kept, "headers"),
            auth=_trim(record.auth, kept),
            request=_trim(record.request, kept),
            violations=_trim(record.violations, kept),
            warnings=_trim(record.warnings, kept),
            content_type=None if record.content_type is None else trimmed(record.content_type, kept),
            result=_trim(record.result, kept),
            extra=_trim(record.extra, kept),
        )
        if weight(cut) <= RECORD_CAP:
            break
    return cut


__all__ = ["PAIRS_KEPT", "RECORD_CAP", "TEXT_KEPT", "bounded", "trimmed", "weight"]
