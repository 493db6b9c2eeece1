"""Decode request bodies (JSON family, XML, form) to name/value pairs; encode answers."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape

from lxml import etree

from mockserver.core.vocabulary._printable import escape_surrogates
from mockserver.core.vocabulary.errors import ApiError, Violation, preview

SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
ERROR_NS = "http://schemas.datacontract.org/2004/07/SuperOffice.WebApi"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
MAX_FORM_FIELDS = 1000

Pairs = list[tuple[str, Any]]


class _JsonPairs(list[tuple[str, Any]]):
    """A JSON object kept as ordered pairs, so duplicate names stay visible."""


def _bad_body(expected: str, got: str) -> ApiError:
    return ApiError(400, [Violation("body", expected, got)])


def decode_text(body: bytes | bytearray, codec: str, charset_label: str | None) -> str:
    """Decode body bytes, naming the offending byte on failure."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        label = charset_label or "utf-8 (the default)"
        bad = body[exc.start : exc.start + 1].hex()
        raise _bad_body(f"text in {label}", f"byte 0x{bad} at offset {exc.start}: {exc.reason}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every call: json.loads() with keyword arguments builds a new one each time,
# which cost more than parsing a small body. Its C scanner keeps no state between calls.
_JSON_DECODER = json.JSONDecoder(object_pairs_hook=_JsonPairs, parse_constant=_reject_constant)
_JSON_SCAN = _JSON_DECODER.scan_once  # type: ignore[attr-defined]  # set in __init__, not in the stubs


def _scan_object(text: str) -> Any:
    # The usual body is one object with no whitespace around it: scan it directly, without
    # decode()'s two whitespace matches and raw_decode's frame. Anything else (or any error)
    # goes through decode(), which parses again and raises its own error.
    try:
        value, end = _JSON_SCAN(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    return value if end == len(text) else None


def decode_json(text: str) -> Pairs:
    """Parse a JSON request object into pairs."""
    try:
        if text.startswith("\ufeff"):  # what json.loads says about a byte order mark
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _scan_object(text) if text[:1] == "{" and text[-1:] == "}" else None
        if value is None:
            value = _JSON_DECODER.decode(text)
    except RecursionError:
        raise _bad_body("a JSON object", "JSON nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise _bad_body("a JSON object", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise _bad_body("a JSON object", str(exc)) from None
    if not isinstance(value, _JsonPairs):
        kind = "array" if isinstance(value, list) else "null" if value is None else type(value).__name__
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, int | float):
            kind = "number"
        elif isinstance(value, str):
            kind = "string"
        raise _bad_body("a JSON object", f"a JSON {kind}")
    return value


def _new_xml_parser(codec: str | None) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        encoding=codec,
    )


# Building a parser cost about a third of parsing a small body. A parser is reused for every
# parse on its thread (one parse at a time each, as lxml asks); only two are needed: XML's own
# encoding rules (None) and UTF-8 (Python decoded the body).
_PARSERS = threading.local()


def _xml_parser(codec: str | None) -> etree.XMLParser:
    parsers: dict[str | None, etree.XMLParser] | None = getattr(_PARSERS, "by_codec", None)
    if parsers is None:
        parsers = _PARSERS.by_codec = {}
    parser = parsers.get(codec)
    if parser is None:
        parser = parsers[codec] = _new_xml_parser(codec)
    return parser


def _local_name(tag: str) -> str:
    # What etree.QName(tag).localname answers, without building a QName: "{ns}name" or "name".
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def decode_xml(body: bytes, codec: str | None, charset_label: str | None = None) -> Pairs:
    """Parse an XML request: child elements of any root, by local name.

    With a charset parameter the bytes are decoded by Python (which knows more charsets than
    libxml2) and handed to lxml as UTF-8; the HTTP charset then overrides the XML declaration.
    Without one, XML's own rules apply (BOM, then the declaration, then UTF-8).
    """
    if codec is not None:
        body = decode_text(body, codec, charset_label).encode("utf-8")
        codec = "utf-8"
    if not body or body.isspace():  # not body.strip(): that copies the body
        raise _bad_body("an XML document", "an empty body")
    try:
        root = etree.fromstring(body, _xml_parser(codec))
    except etree.XMLSyntaxError as exc:
        raise _bad_body("a well-formed XML document", f"{exc.msg}") from None
    except (ValueError, LookupError, etree.LxmlError) as exc:
        raise _bad_body("a well-formed XML document", str(exc)) from None
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _bad_body(
            "XML without a DTD (DTDs and entities are refused)", f"DOCTYPE {docinfo.doctype or '(internal)'}"
        )
    pairs: Pairs = []
    for child in root:
        tag = child.tag
        if not isinstance(tag, str):
            raise _bad_body("XML without entity references", f"entity {child!r}")
        name = _local_name(tag)
        nil = child.get(XSI_NIL)
        if nil is not None and nil.strip().lower() == "true":
            pairs.append((name, None))
        elif len(child):
            pairs.append((name, _XmlElement(etree.QName(child[0]).localname)))
        else:
            pairs.append((name, child.text or ""))
    return pairs


class _XmlElement:
    """Stands for an XML element that holds child elements where text was expected."""

    def __init__(self, first_child: str) -> None:
        self.first_child = first_child

    def __repr__(self) -> str:
        return f"an element containing <{self.first_child}>"


def _parse_form(text: str, codec: str) -> Pairs:
    # parse_qsl(text, keep_blank_values=True, encoding=codec, errors="strict") for a str within
    # the field limit, without its argument coercion and a call per name and value that needs
    # no unquoting (tests/test_fast_paths.py compares the two).
    pairs: Pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        name = name.replace("+", " ")
        value = value.replace("+", " ")
        if "%" in name:
            name = unquote(name, codec, "strict")
        if "%" in value:
            value = unquote(value, codec, "strict")
        pairs.append((name, value))
    return pairs


def decode_form(text: str, codec: str) -> Pairs:
    """Parse an application/x-www-form-urlencoded body."""
    try:
        if text.count("&") < MAX_FORM_FIELDS:
            return _parse_form(text, codec)
        return parse_qsl(text, keep_blank_values=True, encoding=codec, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError as exc:
        raise _bad_body(f"form values percent-encoded in {codec}", f"{exc.reason} at offset {exc.start}") from None
    except ValueError as exc:
        raise _bad_body(f"a form body of at most {MAX_FORM_FIELDS} fields", str(exc)) from None


def decode_body(body: bytes | bytearray, family: str, codec: str | None, charset_label: str | None) -> Pairs:
    """Decode a request body of the given media family into name/value pairs.

    A bytearray body (the HTTP shell's read buffer) is emptied once its text is decoded.
    """
    if family == "xml":
        if isinstance(body, bytearray):
            data = bytes(body)
            body.clear()
            return decode_xml(data, codec, charset_label)
        return decode_xml(body, codec, charset_label)
    # A byte order mark is not content; .NET readers skip it too.
    text = decode_text(body, codec or "utf-8", charset_label).removeprefix("\ufeff")
    if isinstance(body, bytearray):
        body.clear()  # free the bytes before parsing makes its own copy of the (base64) values
    if family == "json":
        if not text or text.isspace():  # not text.strip(): that copies a big body with a trailing newline
            raise _bad_body("a JSON object", "an empty body")
        return decode_json(text)
    if family == "form":
        return decode_form(text, codec or "utf-8")
    raise _bad_body("a supported body", f"media family {family}")


# ---- encoding -----------------------------------------------------------------------------


def _xml_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters, even escaped, nor surrogates (_printable.py).
    clean = "".join(ch if ch in "\t\n\r" or ord(ch) >= 0x20 else f"\\x{ord(ch):02x}" for ch in text)
    return escape(escape_surrogates(clean))


def encode_int(value: int, fmt: str) -> bytes:
    """Encode an int32 result as JSON or DataContract XML."""
    if fmt == "xml":
        return f'<int xmlns="{SERIALIZATION_NS}">{value}</int>'.encode()
    return str(value).encode()


def encode_base64_result(b64: str, fmt: str) -> bytes:
    """Encode a byte[] result (already base64) as a JSON string or DataContract XML."""
    if fmt == "xml":
        return f'<base64Binary xmlns="{SERIALIZATION_NS}">{b64}</base64Binary>'.encode()
    return f'"{b64}"'.encode()


_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # as for the decoder: built once
_ASCII_JSON_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def encode_json(value: Any) -> bytes:
    """UTF-8 JSON. Text UTF-8 cannot carry (a lone surrogate) is written as a JSON escape, never an error."""
    text = _JSON_ENCODER.encode(value)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _ASCII_JSON_ENCODER.encode(value).encode()


def encode_error(body: dict[str, Any], fmt: str) -> bytes:
    """Encode a SuperOffice error object as JSON or as DataContract-style XML."""
    if fmt != "xml":
        return encode_json(body)
    parts = [f'<WebApiError xmlns="{ERROR_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">']
    for key in ("Error", "ErrorType", "Message", "ErrorSource"):
        value = body[key]
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f"<{key}>{_xml_text(text)}</{key}>")
    parts.append("<Violations>")
    for v in body.get("Violations", []):
        parts.append("<Violation>")
        for key in ("location", "expected", "got", "message"):
            tag = key.capitalize()
            parts.append(f"<{tag}>{_xml_text(v[key])}</{tag}>")
        parts.append("</Violation>")
    parts.append("</Violations></WebApiError>")
    return "".join(parts).encode()


def describe_xml_value(value: Any) -> str:
    """Say what an XML-bound value is, for a `got` field."""
    if value is None:
        return "nil"
    if isinstance(value, _XmlElement):
        return repr(value)
    return f"text {preview(value)}"
