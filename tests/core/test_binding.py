"""Binding decoded pairs to the contract: .NET base64, enums, case-insensitive names, warnings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver import Fake, RawRequest
from mockserver.core.body.binding import Binding, bind
from mockserver.core.loader import load_contract
from mockserver.core.vocabulary._base64 import Base64Error, decode_base64

from ..properties.strategies import JPEG, WEBP, bmp, ico
from ..support import BASIC, GIF, PNG, SAVE_CONTRACT, SAVE_PATH, b64

CONTRACT = load_contract(SAVE_CONTRACT)


def bound(family: str = "json", **values: Any) -> Binding:
    return bind(list(values.items()), CONTRACT, family)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("", b""),
        ("aGVsbG8=", b"hello"),
        ("aGVs bG8=", b"hello"),
        (" aGVs\r\n\tbG8=\n", b"hello"),
        ("aGVsbA==", b"hell"),
        ("aGVsbG8h", b"hello!"),
    ],
)
def test_base64_as_dotnet_reads_it(text: str, data: bytes) -> None:
    assert decode_base64(text) == data


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("GIF89....File contents as raw bytes...", "'.' at offset 5 is not a base64 character"),
        ("aGVsbG8", "7 base64 characters is not a multiple of 4 (padding missing?)"),
        ("aGVsbA", "6 base64 characters is not a multiple of 4 (padding missing?)"),
        ("aG=sbG8=", "'=' at offset 2 is padding in the middle of the data"),
        ("aGVs\x00bG8=", "'\\x00' at offset 4 is not a base64 character"),
        ("aGVsbG8-", "'-' at offset 7 is not a base64 character"),
        ("aGVsbG8_", "'_' at offset 7 is not a base64 character"),
    ],
)
def test_base64_rejections_say_where_and_why(text: str, reason: str) -> None:
    with pytest.raises(Base64Error) as info:
        decode_base64(text)
    assert str(info.value) == reason


def test_doc_sample_message_matches_the_documented_form() -> None:
    b = bound(Type="AccessToken", Image="GIF89....File contents as raw bytes...", Description="x")
    assert [v.message for v in b.violations] == [
        "body.Image must be base64 (got 'GIF89....Fi…': '.' at offset 5 is not a base64 character)"
    ]


def test_property_names_bind_case_insensitively() -> None:
    b = bind([("type", "personimage"), ("IMAGE", b64(PNG)), ("dEsCrIpTiOn", "d")], CONTRACT, "json")
    assert b.values == {"Type": "PersonImage", "Image": PNG, "Description": "d"}
    assert b.violations == b.warnings == []


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("PersonImage", "PersonImage"),
        ("PERSONIMAGE", "PersonImage"),
        ("  contactimage ", "ContactImage"),
        (1, "PersonImage"),
        ("19", "ExtraTableIcon"),
        (" 11 ", "AccessToken"),
        (17, "ContactImage"),
    ],
)
def test_type_by_name_or_number(raw: Any, name: str) -> None:
    b = bound(Type=raw, Image=b64(PNG))
    assert b.violations == []
    assert b.values["Type"] == name


@pytest.mark.parametrize(
    ("raw", "got"),
    [
        (0, "number 0, which is not a BlobLinkType"),
        (20, "number 20, which is not a BlobLinkType"),
        ("0", "'0', which is not a BlobLinkType"),
        ("Picture", "'Picture', which is not a BlobLinkType"),
        (True, "boolean true"),
        (1.5, "number 1.5"),
        ([1], "array of 1"),
    ],
)
def test_bad_type_is_a_violation(raw: Any, got: str) -> None:
    b = bound(Type=raw, Image=b64(PNG))
    assert [(v.location, v.expected, v.got) for v in b.violations] == [
        ("body.Type", "a BlobLinkType name or number (1-19)", got)
    ]


def test_image_as_json_array_of_bytes() -> None:
    assert bound(Type=1, Image=list(GIF)).values["Image"] == GIF


@pytest.mark.parametrize(
    ("raw", "got"),
    [
        ([1, 256], "array whose item 1 is number 256"),
        ([-1], "array whose item 0 is number -1"),
        ([True], "array whose item 0 is boolean true"),
        (["1"], "array whose item 0 is string '1'"),
        (42, "number 42"),
        ({}, "object with 0 properties"),
    ],
)
def test_bad_image_values(raw: Any, got: str) -> None:
    b = bound(Type=1, Image=raw)
    assert [(v.expected, v.got) for v in b.violations] == [("base64, or an array of integers 0-255", got)]


def test_image_array_is_json_only() -> None:
    b = bound("form", Type="1", Image=[1, 2])
    assert b.violations[0].expected == "base64"


def test_form_hint_when_plus_arrived_as_space() -> None:
    b = bound("form", Type="1", Image="ab c")
    assert b.violations[0].got.endswith("; in a form body '+' must be sent as %2B")


def test_missing_image_is_a_violation_and_null_counts_as_missing() -> None:
    for b in (bound(Type=1), bound(Type=1, Image=None)):
        assert [(v.location, v.got) for v in b.violations] == [("body.Image", "nothing")]
        assert b.violations[0].expected == "base64 (required)"


def test_every_problem_is_reported_at_once() -> None:
    b = bound(Type="Nope", Image="!!!!", Description=[])
    assert [v.location for v in b.violations] == ["body.Type", "body.Image", "body.Description"]


def test_duplicate_property_in_different_case_is_a_violation() -> None:
    b = bind([("Image", b64(PNG)), ("image", b64(GIF))], CONTRACT, "json")
    assert [v.message for v in b.violations] == [
        "body.Image must be given once (property names are case-insensitive) (got 'Image' and 'image')"
    ]


@pytest.mark.parametrize(
    ("values", "location", "got"),
    [
        ({"Type": 1, "Image": ""}, "body.Image", "0 bytes"),
        ({"Type": 1, "Image": b64(b"hello")}, "body.Image", "5 bytes starting 'hello'"),
        ({"Image": b64(PNG)}, "body.Type", "nothing"),
        ({"Type": 1, "Image": b64(PNG), "Colour": "red"}, "body.Colour", "an unknown property"),
        ({"Type": 1, "Image": b64(PNG), "Description": 7}, "body.Description", "number 7, read as '7'"),
    ],
)
def test_warnings(values: dict[str, Any], location: str, got: str) -> None:
    b = bound(**values)
    assert b.violations == []
    assert [(w.location, w.got) for w in b.warnings] == [(location, got)]


@pytest.mark.parametrize(
    "data",
    [
        GIF,
        PNG,
        JPEG,
        WEBP,
        bmp(2, 2, b"abc"),
        ico(2, 2, b"abc"),
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
)
def test_recognised_image_formats_give_no_warning(data: bytes) -> None:
    assert bound(Type=1, Image=b64(data)).warnings == []


def test_xml_nested_element_and_nil() -> None:
    from mockserver.core.body.codecs import decode_body

    pairs = decode_body(b"<r><Type>1</Type><Image><b/></Image></r>", "xml", None, None)
    b = bind(pairs, CONTRACT, "xml")
    assert [(v.location, v.got) for v in b.violations] == [("body.Image", "an element containing <b>")]


@pytest.mark.parametrize(
    ("body", "kind", "ctype"),
    [
        (b'{"Type":"PersonImage","Image":"R0lGODlh"}', "JSON", "application/json"),
        (b"<SaveImageStreamRequest><Type>PersonImage</Type></SaveImageStreamRequest>", "XML", "application/xml"),
    ],
)
def test_a_json_or_xml_body_sent_as_a_form_gets_a_hint(body: bytes, kind: str, ctype: str) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": BASIC}
    outcome = Fake().process(RawRequest.build("POST", SAVE_PATH, headers=headers, body=body))
    assert outcome.status == 400
    hint = (
        f"the body looks like {kind} sent as application/x-www-form-urlencoded (curl -d's default): "
        f"send Content-Type: {ctype}"
    )
    assert hint in outcome.record.violations[0].got
    assert hint in json.loads(outcome.body)["Message"]


def test_a_real_form_gets_no_hint() -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": BASIC}
    outcome = Fake().process(RawRequest.build("POST", SAVE_PATH, headers=headers, body=b"Type=PersonImage"))
    assert outcome.status == 400 and "looks like" not in outcome.record.violations[0].got
