"""The answer's bytes: results and errors encoded in the negotiated format, and GET's description.

Pure functions; `fake.Fake.process` calls them once the call's outcome is known.
"""

from __future__ import annotations

import base64
from typing import Any

from mockserver.core.answering.behaviours import Result
from mockserver.core.body import codecs
from mockserver.core.headers.negotiation import Answer
from mockserver.core.vocabulary._bounded import BoundedCache
from mockserver.core.vocabulary.contract import Contract
from mockserver.core.vocabulary.errors import ApiError
from mockserver.core.vocabulary.images import ImageInfo

DESCRIBE_METHODS = frozenset({"GET", "HEAD"})


def encode_result(contract: Contract | None, method: str, result: Result, answer: Answer) -> tuple[bytes, str | None]:
    """Encode a behaviour's result in the negotiated format: (body, Content-Type)."""
    if contract is None or method in DESCRIBE_METHODS:
        return codecs.encode_json(result.value), "application/json; charset=utf-8"
    ctype = utf8(answer.media)
    if contract.result == "none":
        return b"", None
    if contract.result == "int32":
        return codecs.encode_int(result.value, answer.fmt), ctype
    data: bytes = result.value
    if answer.fmt == "raw":
        return data, answer.media
    return codecs.encode_base64_result(base64.b64encode(data).decode("ascii"), answer.fmt), ctype


def loggable_result(value: Any) -> Any:
    """What a call record keeps of a behaviour's result: bytes as `ImageInfo`, no GET description."""
    if isinstance(value, bytes):
        return ImageInfo.of(value).to_json()
    if isinstance(value, dict):
        return None  # a GET description: not worth keeping per call
    return value


# Records share what is the same from call to call, so a record holds (and, once the bounded
# journal drops it, frees) as few objects of its own as possible: the Content-Type strings of
# answers, their media types, and the empty `extra` of calls that had none.
_UTF8: BoundedCache[str, str] = BoundedCache(64, keep_first=True)  # the types contracts offer: a handful
_MEDIA_OF: BoundedCache[str, str] = BoundedCache(64, keep_first=True)


def utf8(media_type: str) -> str:
    return _UTF8.get_or_make(media_type, _with_charset)


def _with_charset(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


def media_of(ctype: str | None) -> str | None:
    if not ctype:
        return None
    return _MEDIA_OF.get_or_make(ctype, _media_type)


def _media_type(ctype: str) -> str:
    return ctype.partition(";")[0]


# A client that gets a request wrong tends to get it wrong the same way every time: the encoded
# error body is kept per (status, violations, message, type, format), a bounded few.
ERROR_CACHE_SIZE = 256
_ERROR_BODIES: BoundedCache[tuple[Any, ...], bytes] = BoundedCache(ERROR_CACHE_SIZE)
ERROR_CACHE_MAX_BYTES = 4096


def error_bytes(err: ApiError, fmt: str) -> bytes:
    """Encode an error body, reusing the bytes of an identical recent error."""
    if type(err) is not ApiError:  # a subclass may say more than these fields
        return codecs.encode_error(err.body(), fmt)
    key = (err.status, tuple(err.violations), err.message, err.error_type, fmt)
    try:
        body = _ERROR_BODIES.get(key)
    except TypeError:  # a violation holding something unhashable
        return codecs.encode_error(err.body(), fmt)
    if body is None:
        body = codecs.encode_error(err.body(), fmt)
        if len(body) <= ERROR_CACHE_MAX_BYTES:
            _ERROR_BODIES.put(key, body)
    return body


def describe(contract: Contract) -> dict[str, Any]:
    """Describe an agent call from its contract, as a GET on the agent URL does."""
    props = []
    for p in contract.properties:
        item: dict[str, Any] = {"Name": p.name, "Type": p.type, "Required": p.required}
        if p.enum is not None:
            item["Enum"] = p.enum.name
            item["Values"] = dict(p.enum.members)
        props.append(item)
    return {
        "Name": contract.name,
        "OperationId": contract.operation_id,
        "Method": contract.method,
        "Path": contract.path,
        "Summary": contract.summary,
        "Description": contract.description,
        "RequestMediaTypes": list(contract.request_media_types),
        "ResponseMediaTypes": list(contract.response_media_types),
        "Parameters": [{"Name": q.name, "In": "query", "Type": q.type} for q in contract.query]
        + [{"Name": h.name, "In": "header"} for h in contract.headers],
        "Body": props,
        "Result": contract.result,
        "Status": contract.response_status,
    }
