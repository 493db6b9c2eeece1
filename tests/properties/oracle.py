"""A second, independent judge of SaveImageStream requests.

Written from FACTS.md and the issue texts, not from `mockserver/`: it shares no code with
`mockserver.validation`, `mockserver.codecs` or `mockserver.media` (stdlib parsers only, ElementTree
instead of lxml, a hand-written form decoder). Property 3 compares the fake against it, so a rule
that is wrong in the fake has to be wrong the same way here, written separately, to go unnoticed.
"""

from __future__ import annotations

import base64
import codecs
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from .strategies import BLOB_LINK_TYPES, RESPONSE_MEDIA, Request, Save

REQUEST_MEDIA = {
    "application/json": "json", "text/json": "json", "application/json-patch+json": "json",
    "application/merge-patch+json": "json", "application/xml": "xml", "text/xml": "xml",
    "application/x-www-form-urlencoded": "form",
}  # fmt: skip
PATH = re.compile(r"(/[^?#]*)?/api/v1/agents/blob/saveimagestream/?", re.IGNORECASE)
NOT_FOUND_MEDIA = ("application/json", "text/json", "application/xml", "text/xml")
MAX_HEADER_VALUE = 16 * 1024
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
TYPES_BY_LOWER = {name.lower(): name for name in BLOB_LINK_TYPES}
CANONICAL = {"type": "Type", "image": "Image", "description": "Description"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the fake must answer: a status, the parts a rejection names, what an acceptance stores."""

    status: int
    locations: frozenset[str] = frozenset()
    save: Save | None = None

    def explains(self, got: list[str]) -> bool:
        """True when every expected location is named (as `header.X` names `header.X.charset` too)."""
        lowered = [g.lower() for g in got]
        return all(
            any(g == want.lower() or g.startswith(want.lower() + ".") for g in lowered) for want in self.locations
        )


class Reject(Exception):
    def __init__(self, status: int, *locations: str) -> None:
        self.verdict = Verdict(status, frozenset(locations))


def judge(req: Request, *, max_body_size: int = 32 * 1024 * 1024, check_auth: bool = True) -> Verdict:
    """Say what the real server (as the fake documents it) must answer to `req`."""
    try:
        return _judge(req, max_body_size, check_auth)
    except Reject as r:
        return r.verdict


def _values(req: Request, name: str) -> list[str]:
    return [v for k, v in req.headers if k.lower() == name.lower()]


def _judge(req: Request, max_body_size: int, check_auth: bool) -> Verdict:
    if not PATH.fullmatch(req.path):
        raise Reject(404, "path")
    if req.method in {"GET", "HEAD"}:
        return Verdict(200)
    if req.method != "POST":
        raise Reject(405, "method")
    if len(req.body) > max_body_size:
        raise Reject(413, "body")
    for name, value in req.headers:
        if len(value.encode("utf-8", "surrogateescape")) > MAX_HEADER_VALUE:
            raise Reject(400, f"header.{name}")
    if check_auth:
        _check_auth(req)
    family, codec, explicit = _content_type(req)
    return Verdict(200, save=_bind(_decode(req.body, family, codec, explicit), family))


# ---- authentication (issue 3) ---------------------------------------------------------------


def _check_auth(req: Request) -> None:
    given = _values(req, "Authorization")
    if len(given) > 1:
        raise Reject(400, "header.Authorization")
    if not given:
        if len(_values(req, "X-XSRF-TOKEN")) > 1:  # the fake's choice, as for two Authorization headers
            raise Reject(400, "header.X-XSRF-TOKEN")
        token = (_values(req, "X-XSRF-TOKEN") or [""])[0].strip()
        cookies = {}
        for header in _values(req, "Cookie"):
            for part in header.split(";"):
                key, _, value = part.strip().partition("=")
                cookies.setdefault(key, value)
        if token and cookies.get("XSRF-TOKEN") == token:
            return
        # With neither credential the missing Authorization is named; a bad XSRF token is named itself.
        raise Reject(401, "header.X-XSRF-TOKEN" if _values(req, "X-XSRF-TOKEN") else "header.Authorization")
    scheme, _, secret = given[0].strip().partition(" ")
    scheme, secret = scheme.lower(), secret.strip()
    online = req.installation == "online"
    if scheme == "basic" and not online:
        if secret.startswith("7T:") and len(secret) > 3:
            return
        text = re.sub(r"\s", "", secret)
        if len(text) % 4 or not _BASE64.fullmatch(text):
            raise Reject(401, "header.Authorization")
        raw = base64.b64decode(text)
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = raw.decode("latin-1")  # the fake's documented choice for older clients
        user, colon, _ = decoded.partition(":")
        if colon and user:
            return
    elif scheme == "soticket" and secret.startswith("7T:") and len(secret) > 3 and " " not in secret:
        if not online or (_values(req, "SO-AppToken") or [""])[0].strip():
            return
        raise Reject(401, "header.SO-AppToken")
    elif scheme == "bearer" and secret and " " not in secret:
        return
    raise Reject(401, "header.Authorization")


# ---- media types and bodies ------------------------------------------------------------------


def _content_type(req: Request) -> tuple[str, str, bool]:
    value = req.header("Content-Type")
    if value is None or not value.strip():
        raise Reject(415, "header.Content-Type")
    head, *params = value.split(";")
    family = REQUEST_MEDIA.get(head.strip().lower())
    if family is None:
        raise Reject(415, "header.Content-Type")
    codec, explicit = "utf-8", False
    for param in params:
        if not param.strip():
            continue
        name, eq, val = param.partition("=")
        if not eq or not name.strip():
            raise Reject(415, "header.Content-Type")
        if name.strip().lower() == "charset":
            try:
                info = codecs.lookup(val.strip().strip('"'))
            except LookupError:
                raise Reject(415, "header.Content-Type") from None
            if not info._is_text_encoding:  # type: ignore[attr-defined]
                raise Reject(415, "header.Content-Type")
            codec, explicit = info.name, True
    return family, codec, explicit


def _decode(body: bytes, family: str, codec: str, explicit: bool) -> list[tuple[str, object]]:
    if family == "xml":
        return _decode_xml(body, codec if explicit else None)
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        raise Reject(400, "body") from None
    text = text.removeprefix("\ufeff")  # a byte order mark is not part of the text
    if family == "form":
        return _decode_form(text, codec)
    pairs: list[list[tuple[str, object]]] = []

    def keep(items: list[tuple[str, object]]) -> dict[str, object]:
        pairs.append(items)
        return dict(items)

    def refuse(name: str) -> object:
        raise ValueError(name)

    if not text.strip():
        raise Reject(400, "body")
    try:
        value = json.loads(text, object_pairs_hook=keep, parse_constant=refuse)
    except (ValueError, RecursionError):
        raise Reject(400, "body") from None
    if not isinstance(value, dict):
        raise Reject(400, "body")
    return pairs[-1]  # the outermost object is finished last


def _decode_form(text: str, codec: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        try:
            out.append((_unform(name, codec), _unform(value, codec)))
        except UnicodeDecodeError:
            raise Reject(400, "body") from None
    if len(out) > 1000:
        raise Reject(400, "body")
    return out


def _unform(text: str, codec: str) -> str:
    return unquote_to_bytes(text.replace("+", " ")).decode(codec)


class _Element:
    """An XML element with child elements where text belongs."""


def _decode_xml(body: bytes, codec: str | None) -> list[tuple[str, object]]:
    """Parse XML; a charset in Content-Type wins, else the BOM or the XML declaration decides."""
    if codec is None:
        document: str | bytes = body
        sniffed = (
            body.decode("utf-16", "replace")
            if body[:2] in {b"\xff\xfe", b"\xfe\xff"}
            else body.decode("utf-8", "replace")
        )
    else:
        try:
            sniffed = document = body.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise Reject(400, "body") from None
        if _NOT_XML_CHAR.search(document):  # XML 1.0 forbids them anywhere, the declaration included
            raise Reject(400, "body")
        document = re.sub(r"^\s*<\?xml[^>]*\?>", "", document)
    if not sniffed.strip() or "<!DOCTYPE" in sniffed or "<!ENTITY" in sniffed:
        raise Reject(400, "body")
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        raise Reject(400, "body") from None
    out: list[tuple[str, object]] = []
    for child in root:
        name = child.tag.rpartition("}")[2]
        if child.get(NIL, "").strip().lower() == "true":
            out.append((name, None))
        elif len(child):
            out.append((name, _Element()))
        else:
            out.append((name, child.text or ""))
    return out


# ---- binding -------------------------------------------------------------------------------


def _bind(pairs: list[tuple[str, object]], family: str) -> Save:
    seen: dict[str, object] = {}
    bad: set[str] = set()
    for name, value in pairs:
        canon = CANONICAL.get(name.lower())
        if canon is None:
            continue  # unknown properties are ignored (with a warning)
        if canon in seen or canon in bad:
            bad.add(canon)
            seen.pop(canon, None)
            continue
        seen[canon] = value
    values: dict[str, object] = {}
    for canon, value in seen.items():
        if value is None:
            continue
        try:
            values[canon] = {"Type": _type, "Image": _image, "Description": _description}[canon](value, family)
        except ValueError:
            bad.add(canon)
    if "Image" not in values and "Image" not in bad:
        bad.add("Image")
    if bad:
        raise Reject(400, *(f"body.{name}" for name in bad))
    return Save(values.get("Type"), values["Image"], values.get("Description"))  # type: ignore[arg-type]


def _type(value: object, family: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in TYPES_BY_LOWER:
            return TYPES_BY_LOWER[text.lower()]
        if not _INTEGER.fullmatch(text):
            raise ValueError(text)
        number = int(text)
    else:
        raise ValueError(value)
    if not 1 <= number <= len(BLOB_LINK_TYPES):
        raise ValueError(number)
    return BLOB_LINK_TYPES[number - 1]


def _image(value: object, family: str) -> bytes:
    if isinstance(value, list) and family == "json":
        if all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value):
            return bytes(value)  # type: ignore[arg-type]
        raise ValueError("array")
    if not isinstance(value, str):
        raise ValueError(value)
    text = re.sub(r"[ \t\r\n]", "", value)
    if len(text) % 4 or not _BASE64.fullmatch(text):
        raise ValueError(text)
    return base64.b64decode(text)


def _description(value: object, family: str) -> str:
    if isinstance(value, str):
        return value
    if family == "json" and isinstance(value, bool):
        return str(value).lower()
    if family == "json" and isinstance(value, int | float):
        return str(value)
    raise ValueError(value)


# ---- negotiation ---------------------------------------------------------------------------


def response_media(req: Request) -> str:
    """The media type the answer to `req` must have (non-strict fake).

    RFC 9110 §12.5.1: each offered type takes the q of the most specific matching range; among
    equal q the more specific range wins, then the range the client listed first (ASP.NET Web API
    does so), then the request's own JSON/XML type, then the server's order. Malformed ranges are
    skipped; with none left, the request's own JSON/XML type is used when it has one.
    """
    known = PATH.fullmatch(req.path) is not None
    if known and req.method in {"GET", "HEAD"}:
        return "application/json"
    offered = RESPONSE_MEDIA if known else NOT_FOUND_MEDIA
    ranges = [r for r in (_range(item, i) for i, item in enumerate(_items(req.header("Accept") or ""))) if r]
    ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
    own = ctype if ctype in offered and REQUEST_MEDIA.get(ctype) in {"json", "xml"} else offered[0]
    if not ranges:
        return own
    scored = []
    for rank, candidate in enumerate(offered):
        matching = [r for r in ranges if r[0] in (candidate, "*/*", candidate.split("/")[0] + "/*")]
        if matching:
            media, q, order = max(matching, key=lambda r: _specificity(r[0]))
            if q > 0:
                scored.append(((q, _specificity(media), -order, candidate == own, -rank), candidate))
    return max(scored)[1] if scored else "application/json"


def _items(accept: str) -> list[str]:
    return [item for item in accept.split(",") if item.strip()]


def _specificity(media: str) -> int:
    return 0 if media == "*/*" else 1 if media.endswith("/*") else 2


def _range(item: str, order: int) -> tuple[str, float, int] | None:
    media, *params = item.split(";")
    media = media.strip().lower()
    kind, slash, sub = media.partition("/")
    if not slash or not kind or not sub or any(c.isspace() for c in media):
        return None
    q = 1.0
    for param in params:
        if not param.strip():
            continue
        name, eq, value = param.partition("=")
        if not eq or not name.strip():
            return None
        if name.strip().lower() == "q":
            try:
                q = float(value.strip().strip('"'))
            except ValueError:
                return None
            if not 0 <= q <= 1:
                return None
    return media, q, order


# ---- answers -------------------------------------------------------------------------------

SERIALIZATION = "{http://schemas.microsoft.com/2003/10/Serialization/}"
ERROR_KEYS = ("Error", "ErrorType", "Message", "ErrorSource")


def parse_answer(body: bytes, content_type: str | None) -> object:
    """Parse an answer in the format its Content-Type claims; raise AssertionError when it does not parse.

    Returns the int result, or the error as a dict of its top-level fields.
    """
    media = (content_type or "").split(";")[0].strip()
    family = REQUEST_MEDIA.get(media)
    assert family in {"json", "xml"}, f"answer media type {content_type!r} is neither JSON nor XML"
    if family == "json":
        value = json.loads(body.decode("utf-8"))
        if isinstance(value, dict) and "Error" in value:
            assert value["Error"] is True and all(isinstance(value[k], str) for k in ERROR_KEYS[1:]), value
            assert isinstance(value["Violations"], list), value
        return value
    root = ET.fromstring(body)
    if root.tag == SERIALIZATION + "int":
        assert root.text is not None and _INTEGER.fullmatch(root.text), body
        return int(root.text)
    local = root.tag.rpartition("}")[2]
    assert local == "WebApiError", f"unexpected XML root {root.tag}"
    fields = {child.tag.rpartition("}")[2]: child for child in root}
    assert fields["Error"].text == "true", body
    out: dict[str, object] = {k: fields[k].text or "" for k in ERROR_KEYS}
    out["Violations"] = [{c.tag.rpartition("}")[2].lower(): c.text or "" for c in v} for v in fields["Violations"]]
    return out


def violation_locations(answer: object) -> list[str]:
    """The `location` of every violation in a parsed error answer."""
    assert isinstance(answer, dict), answer
    return [str(v["location"]) for v in answer["Violations"]]  # type: ignore[index]
