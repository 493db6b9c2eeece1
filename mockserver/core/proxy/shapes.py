"""The shapes of answers: a `Drift` where a body is not the result or the error the contract describes.

Results are an int32 (JSON ``33``, XML ``<int xmlns="…/Serialization/">33</int>``) or bytes
(raw, a JSON string of base64, or ``<base64Binary>``); errors are SuperOffice's error object in
JSON or DataContract XML (`codecs.encode_error`). Each check answers its drift, if any, and the
value it read.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from mockserver.core.body.codecs import ERROR_NS, SERIALIZATION_NS
from mockserver.core.vocabulary.contract import INT32_MAX
from mockserver.core.vocabulary.errors import Violation, describe_json_value, preview
from mockserver.core.vocabulary.images import ImageInfo

# Each kind, and what it means; /_drift and docs/proxy.md list them in this order.
KINDS: dict[str, str] = {
    "status": "a status the contract does not document (neither its answer nor one of its error statuses)",
    "media_type": "a Content-Type missing, or not one of the contract's response media types",
    "result": "a success body not of the contract's result shape (an int32, base64 bytes, or no body)",
    "error_body": "an error body not in SuperOffice's error shape (Error, ErrorType, Message, ErrorSource)",
    "xml_namespace": "an XML result or error in another namespace than the DataContract one",
    "header": "a header the contract requires missing (WWW-Authenticate on 401, Allow on 405)",
    "verdict": "the upstream accepted what the contract refuses, or refused a request differently",
    "no_answer": "the upstream could not be reached or gave no complete answer",
}
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True, slots=True)
class Drift:
    """One place where the upstream did what the contract does not allow or does not describe."""

    kind: str
    location: str
    expected: str
    got: str

    @property
    def message(self) -> str:
        return f"{self.location}: expected {self.expected}, got {self.got}"

    @property
    def violation(self) -> Violation:
        return Violation(self.location, self.expected, self.got)

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "location": self.location,
            "expected": self.expected,
            "got": self.got,
            "message": self.message,
        }


def int32_result(body: bytes, fmt: str) -> tuple[list[Drift], Any]:
    if fmt == "xml":
        found, text = _xml_value(body, "int")
        if found:
            return found, None
        value: Any = int(text) if text is not None and _is_integer(text) else text
    elif fmt == "json":
        try:
            value = json.loads(body)
        except ValueError:
            return [Drift("result", "body", "a JSON int32 such as 33", f"{preview(body, 30)} (not JSON)")], None
    else:
        return [Drift("result", "body", "an int32 as JSON or XML", f"a {fmt} body")], None
    if isinstance(value, bool) or not isinstance(value, int):
        shown = describe_json_value(value) if fmt == "json" else f"text {preview(value or '', 20)}"
        return [Drift("result", "body", "an int32 such as 33", shown)], None
    if not -(2**31) <= value <= INT32_MAX:
        return [Drift("result", "body", "an int32 such as 33", f"{value} (out of the int32 range)")], None
    return [], value


def _is_integer(text: str) -> bool:
    digits = text.strip().removeprefix("-")
    return digits.isascii() and digits.isdigit()


def bytes_result(body: bytes, fmt: str) -> tuple[list[Drift], Any]:
    if fmt == "other":
        return [], ImageInfo.of(body).to_json()
    if fmt == "xml":
        found, text = _xml_value(body, "base64Binary")
        if found:
            return found, None
    else:
        try:
            text = json.loads(body)
        except ValueError:
            return [Drift("result", "body", "a JSON string of base64", f"{preview(body, 30)} (not JSON)")], None
        if not isinstance(text, str):
            return [Drift("result", "body", "a JSON string of base64", describe_json_value(text))], None
    try:
        data = base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError):
        return [Drift("result", "body", "base64 bytes", preview(text or "", 30))], None
    return [], ImageInfo.of(data).to_json()


def _parse_xml(body: bytes) -> tuple[Any, str | None]:
    try:
        return etree.fromstring(body, _XML_PARSER), None
    except etree.XMLSyntaxError:
        return None, f"{preview(body, 30)} (not well-formed XML)"


def _xml_value(body: bytes, root: str) -> tuple[list[Drift], str | None]:
    """Check ``<root xmlns="…/Serialization/">text</root>``; return the drift or the text."""
    expected = f'<{root} xmlns="{SERIALIZATION_NS}">'
    element, problem = _parse_xml(body)
    if element is None:
        return [Drift("result", "body", expected, problem or "no XML")], None
    name = etree.QName(element)
    if name.localname != root:
        return [Drift("result", "body", expected, f"<{name.localname}>")], None
    if name.namespace != SERIALIZATION_NS:
        got = f'<{root} xmlns="{name.namespace}">' if name.namespace else f"<{root}> without a namespace"
        return [Drift("xml_namespace", "body", expected, got)], None
    return [], element.text or ""


_TEXT_FIELDS = ("ErrorType", "Message", "ErrorSource")
ERROR_SHAPE = "a SuperOffice error object (Error true; ErrorType, Message and ErrorSource strings)"


def json_error(body: bytes) -> list[Drift]:
    try:
        value = json.loads(body)
    except ValueError:
        return [Drift("error_body", "body", ERROR_SHAPE, f"{preview(body, 30)} (not JSON)")]
    if not isinstance(value, dict):
        return [Drift("error_body", "body", ERROR_SHAPE, describe_json_value(value))]
    wrong = []
    for key in ("Error", *_TEXT_FIELDS):
        if key not in value:
            wrong.append(f"{key} missing")
        elif value[key] is not True if key == "Error" else not isinstance(value[key], str):
            wrong.append(f"{key} {describe_json_value(value[key])}")
    return [Drift("error_body", "body", ERROR_SHAPE, "an object with " + ", ".join(wrong))] if wrong else []


def xml_error(body: bytes) -> list[Drift]:
    element, problem = _parse_xml(body)
    if element is None:
        return [Drift("error_body", "body", ERROR_SHAPE, problem or "no XML")]
    name = etree.QName(element)
    if name.localname != "WebApiError":
        return [Drift("error_body", "body", f'<WebApiError xmlns="{ERROR_NS}">', f"<{name.localname}>")]
    if name.namespace != ERROR_NS:
        got = f'<WebApiError xmlns="{name.namespace}">' if name.namespace else "<WebApiError> without a namespace"
        return [Drift("xml_namespace", "body", f'<WebApiError xmlns="{ERROR_NS}">', got)]
    children = {etree.QName(child).localname: child.text for child in element if isinstance(child.tag, str)}
    wrong = [f"{key} missing" for key in ("Error", *_TEXT_FIELDS) if key not in children]
    if "Error" in children and children["Error"] != "true":
        wrong.insert(0, f"Error {preview(children['Error'] or '', 20)}")
    return [Drift("error_body", "body", ERROR_SHAPE, "an element with " + ", ".join(wrong))] if wrong else []
