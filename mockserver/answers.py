"""The answer's shape: media-type negotiation, the request's Content-Type, encoding results and errors.

Pure functions over the call being answered; `fake.Fake.process` runs them in order.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import codecs, media
from .behaviours import Result
from .contract import Contract
from .errors import ApiError, Violation, preview

if TYPE_CHECKING:
    from .fake import _Call

DEFAULT_OFFER = ("application/json", "text/json", "application/xml", "text/xml")
DESCRIBE_METHODS = frozenset({"GET", "HEAD"})


def negotiate(headers: Mapping[str, str], contract: Contract | None, call: _Call, strict: bool) -> None:
    """Choose the answer's media type from Accept (else the request's own type); note warnings on `call`."""
    offered = contract.response_media_types if contract else DEFAULT_OFFER
    accept = headers.get("Accept")
    items: tuple[media.AcceptItem, ...] = ()
    if accept is not None and accept.strip():
        items, problems = media.parse_accept(accept)
        for problem in problems:
            call.warnings.append(
                Violation("header.Accept", "a valid Accept header", f"{preview(accept, 60)}: {problem}")
            )
    # The real server answers in the request's own format when Accept leaves it free to.
    own = format_from_content_type(headers, offered)
    if not items:
        call.media = own
        call.fmt = _fmt(own)
        return
    chosen = media.negotiate(items, offered, prefer=own)
    if chosen is None:
        assert accept is not None
        chosen = _first_of_family(offered, "json") or offered[0]
        if strict:
            # Raised after routing, so an unknown path is still a 404 and a wrong method a 405.
            call.not_acceptable = ApiError(
                406,
                [Violation("header.Accept", f"one of {', '.join(offered)}", preview(accept, 60))],
                message=f"None of the types in Accept ({accept[:80]}) can be produced; "
                f"this call answers {', '.join(offered)}.",
            )
        else:
            call.warnings.append(
                Violation(
                    "header.Accept",
                    f"one of {', '.join(offered)}",
                    f"{preview(accept, 60)}; answered {chosen} instead",
                )
            )
    call.media = chosen
    call.fmt = _fmt(chosen)


def format_from_content_type(headers: Mapping[str, str], offered: tuple[str, ...]) -> str:
    # With no Accept the real server answers in the request's own format when it can.
    # A call whose preferred answer is a raw stream (GetBlobStream) answers raw instead.
    ctype = headers.get("Content-Type")
    if ctype and media.family(offered[0]) in {"json", "xml"}:
        try:
            mtype = media.parse_media_type(ctype).type
        except media.MediaError:
            mtype = ""
        if mtype in offered and media.family(mtype) in {"json", "xml"}:
            return mtype
    return offered[0]


def error_media(call: _Call) -> str:
    if call.fmt == "xml":
        return call.media
    return call.media if call.fmt == "json" else "application/json"


def request_media(headers: Mapping[str, str], contract: Contract, call: _Call) -> tuple[str, str | None, str | None]:
    """Check Content-Type against the contract: (media family, codec, charset label), or a 415."""
    supported = ", ".join(contract.request_media_types)
    value = headers.get("Content-Type")
    if value is None or not value.strip():
        raise ApiError(
            415,
            [Violation("header.Content-Type", f"one of {supported}", "no Content-Type header")],
            message=f"The request has no Content-Type. Send one of: {supported}.",
        )
    call.content_type = value
    try:
        mt = media.parse_media_type(value)
    except media.MediaError as exc:
        raise ApiError(
            415, [Violation("header.Content-Type", f"one of {supported}", f"{preview(value, 60)}: {exc}")]
        ) from None
    if mt.type not in contract.request_media_types:
        raise ApiError(
            415,
            [Violation("header.Content-Type", f"one of {supported}", preview(mt.type, 60))],
            message=f"The media type {mt.type} is not supported for {contract.name}. Send one of: {supported}.",
        )
    codec = None
    if mt.charset is not None:
        codec = media.charset_codec(mt.charset)
        if codec is None:
            raise ApiError(
                415,
                [
                    Violation(
                        "header.Content-Type.charset",
                        "a known charset such as utf-8, utf-16 or iso-8859-1",
                        preview(mt.charset, 40),
                    )
                ],
                message=f"The charset {mt.charset!r} is not known.",
            )
    return media.family(mt.type), codec, mt.charset


def encode_result(contract: Contract | None, method: str, result: Result, call: _Call) -> tuple[bytes, str | None]:
    """Encode a behaviour's result in the negotiated format: (body, Content-Type)."""
    if contract is None or method in DESCRIBE_METHODS:
        return codecs.encode_json(result.value), "application/json; charset=utf-8"
    ctype = utf8(call.media)
    if contract.result == "none":
        return b"", None
    if contract.result == "int32":
        return codecs.encode_int(result.value, call.fmt), ctype
    data: bytes = result.value
    if call.fmt == "raw":
        return data, call.media
    return codecs.encode_base64_result(base64.b64encode(data).decode("ascii"), call.fmt), ctype


# Records share what is the same from call to call, so a record holds (and, once the bounded
# journal drops it, frees) as few objects of its own as possible: the Content-Type strings of
# answers, their media types, and the empty `extra` of calls that had none.
_UTF8: dict[str, str] = {}
_MEDIA_OF: dict[str, str] = {}


def utf8(media_type: str) -> str:
    ctype = _UTF8.get(media_type)
    if ctype is None:
        ctype = f"{media_type}; charset=utf-8"
        if len(_UTF8) < 64:  # the types contracts offer: a handful
            _UTF8[media_type] = ctype
    return ctype


def media_of(ctype: str | None) -> str | None:
    if not ctype:
        return None
    media_type = _MEDIA_OF.get(ctype)
    if media_type is None:
        media_type = ctype.partition(";")[0]
        if len(_MEDIA_OF) < 64:
            _MEDIA_OF[ctype] = media_type
    return media_type


# A client that gets a request wrong tends to get it wrong the same way every time: the encoded
# error body is kept per (status, violations, message, type, format), a bounded few.
_ERROR_BODIES: dict[tuple[Any, ...], bytes] = {}
ERROR_CACHE_SIZE = 256
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
            if len(_ERROR_BODIES) >= ERROR_CACHE_SIZE:
                _ERROR_BODIES.pop(next(iter(_ERROR_BODIES), ()), None)  # the oldest
            _ERROR_BODIES[key] = body
    return body


def _fmt(media_type: str) -> str:
    fam = media.family(media_type)
    return fam if fam in {"json", "xml"} else "raw"


def _first_of_family(offered: tuple[str, ...], family: str) -> str | None:
    return next((m for m in offered if media.family(m) == family), None)


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
