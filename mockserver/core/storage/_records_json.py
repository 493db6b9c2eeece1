"""Call records as JSON text, for the state file: every field, nested types tagged, bytes in base64."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from mockserver.core.vocabulary._printable import encodable
from mockserver.core.vocabulary.errors import Violation
from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.records import AuthInfo, CallRecord, Locale

_RECORD_TYPES: dict[str, type] = {cls.__name__: cls for cls in (ImageInfo, AuthInfo, Locale, Violation)}


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type) and type(value).__name__ in _RECORD_TYPES:
        return {"$t": type(value).__name__, **{f.name: _encode(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return {"$r": repr(value)}  # something no record type foresaw: keep it readable


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        if "$t" in value:
            cls = _RECORD_TYPES[value["$t"]]
            names = {f.name for f in fields(cls)}
            return cls(**{k: _decode(v) for k, v in value.items() if k in names})
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$r" in value:
            return value["$r"]
        return {k: _decode(v) for k, v in value.items()}
    return value


def encode_record(record: CallRecord) -> str:
    """The record as JSON text SQLite can store: UTF-8 when it can carry every string, else with \\u escapes.

    Records hold printable text (_printable.py); should a lone surrogate still get in, the escaped
    form keeps it exactly (json.loads reads it back) instead of failing the call's commit.
    """
    data = {f.name: _encode(getattr(record, f.name)) for f in fields(record)}
    text = json.dumps(data, ensure_ascii=False)
    return text if encodable(text) else json.dumps(data, ensure_ascii=True)


def decode_record(text: str) -> CallRecord | None:
    """Rebuild a record; None when the file holds one from an incompatible version."""
    data = json.loads(text)
    known = {f.name for f in fields(CallRecord)}
    try:
        return CallRecord(**{k: _decode(v) for k, v in data.items() if k in known})
    except (TypeError, KeyError):
        return None
