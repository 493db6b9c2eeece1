"""Content negotiation: which media type answers a call, and how its request body is encoded.

Pure functions over headers and a contract; each returns what it concluded and raises
`ApiError` for what must be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.core.headers import media
from mockserver.core.vocabulary.contract import Contract
from mockserver.core.vocabulary.errors import ApiError, Violation, preview

DEFAULT_OFFER = ("application/json", "text/json", "application/xml", "text/xml")


@dataclass(frozen=True, slots=True)
class Answer:
    """How a call is answered: the media type, its format (json, xml or raw) and what Accept said.

    `not_acceptable` is the 406 to raise under --strict once routing has passed.
    """

    media: str
    fmt: str
    warnings: tuple[Violation, ...] = ()
    not_acceptable: ApiError | None = None


@dataclass(frozen=True, slots=True)
class RequestMedia:
    """How a request body is encoded: media family, Python codec and charset label as sent."""

    family: str
    codec: str | None
    label: str | None


JSON_ANSWER = Answer("application/json", "json")


def negotiate(headers: Mapping[str, str], contract: Contract | None, strict: bool) -> Answer:
    """Choose the answer's media type from Accept (else the request's own type)."""
    offered = contract.response_media_types if contract else DEFAULT_OFFER
    accept = headers.get("Accept")
    items: tuple[media.AcceptItem, ...] = ()
    warnings: list[Violation] = []
    if accept is not None and accept.strip():
        items, problems = media.parse_accept(accept)
        for problem in problems:
            warnings.append(Violation("header.Accept", "a valid Accept header", f"{preview(accept, 60)}: {problem}"))
    # The real server answers in the request's own format when Accept leaves it free to.
    own = format_from_content_type(headers, offered)
    if not items:
        return Answer(own, fmt_of(own), tuple(warnings))
    chosen = media.negotiate(items, offered, prefer=own)
    not_acceptable = None
    if chosen is None:
        assert accept is not None
        chosen = _first_of_family(offered, "json") or offered[0]
        if strict:
            # Raised after routing, so an unknown path is still a 404 and a wrong method a 405.
            not_acceptable = ApiError(
                406,
                [Violation("header.Accept", f"one of {', '.join(offered)}", preview(accept, 60))],
                message=f"None of the types in Accept ({accept[:80]}) can be produced; "
                f"this call answers {', '.join(offered)}.",
            )
        else:
            warnings.append(
                Violation(
                    "header.Accept",
                    f"one of {', '.join(offered)}",
                    f"{preview(accept, 60)}; answered {chosen} instead",
                )
            )
    return Answer(chosen, fmt_of(chosen), tuple(warnings), not_acceptable)


def format_from_content_type(headers: Mapping[str, str], offered: tuple[str, ...]) -> str:
    """The media type to answer in when Accept leaves it open.

    With no Accept the real server answers in the request's own format when it can. A call
    whose preferred answer is a raw stream (GetBlobStream) answers raw instead.
    """
    ctype = headers.get("Content-Type")
    if ctype and media.family(offered[0]) in {"json", "xml"}:
        try:
            mtype = media.parse_media_type(ctype).type
        except media.MediaError:
            mtype = ""
        if mtype in offered and media.family(mtype) in {"json", "xml"}:
            return mtype
    return offered[0]


def error_media(answer: Answer) -> str:
    """The media type of an error answer: the negotiated one, unless that is a raw stream."""
    return answer.media if answer.fmt in ("json", "xml") else "application/json"


def request_media(value: str | None, contract: Contract) -> RequestMedia:
    """Check a Content-Type value (None: no header) against the contract, or raise its 415."""
    supported = ", ".join(contract.request_media_types)
    if value is None or not value.strip():
        raise ApiError(
            415,
            [Violation("header.Content-Type", f"one of {supported}", "no Content-Type header")],
            message=f"The request has no Content-Type. Send one of: {supported}.",
        )
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
    return RequestMedia(media.family(mt.type), codec, mt.charset)


def fmt_of(media_type: str) -> str:
    fam = media.family(media_type)
    return fam if fam in {"json", "xml"} else "raw"


def _first_of_family(offered: tuple[str, ...], family: str) -> str | None:
    return next((m for m in offered if media.family(m) == family), None)
