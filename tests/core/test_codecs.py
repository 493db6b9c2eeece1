"""Body decoding (JSON family, hardened XML, form) and answer encoding."""

from __future__ import annotations

import pytest
from lxml import etree

from mockserver.core.body import codecs
from mockserver.core.vocabulary.errors import ApiError, Violation

from ..support import PNG, SERIALIZATION_NS, b64, form_body, xml_body


def bad(call: object, *args: object) -> str:
    with pytest.raises(ApiError) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.status == 400
    return info.value.violations[0].message


def test_json_object_becomes_ordered_pairs_with_duplicates_kept() -> None:
    pairs = codecs.decode_body(b'{"type": 1, "Image": "", "TYPE": 2}', "json", None, None)
    assert list(pairs) == [("type", 1), ("Image", ""), ("TYPE", 2)]


def test_json_tolerates_a_byte_order_mark() -> None:
    pairs = codecs.decode_body(b'\xef\xbb\xbf{"Image": ""}', "json", None, None)
    assert list(pairs) == [("Image", "")]


@pytest.mark.parametrize(
    ("body", "got"),
    [
        (b"", "an empty body"),
        (b"   ", "an empty body"),
        (b"[1, 2]", "a JSON array"),
        (b"33", "a JSON number"),
        (b'"x"', "a JSON string"),
        (b"null", "a JSON null"),
        (b"true", "a JSON boolean"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b"{", "invalid JSON at line 1 column 2: Expecting property name enclosed in double quotes"),
    ],
)
def test_json_that_is_not_an_object(body: bytes, got: str) -> None:
    assert bad(codecs.decode_body, body, "json", None, None) == f"body must be a JSON object (got {got})"


def test_json_nested_too_deep_is_a_400_not_a_crash() -> None:
    assert "nested too deeply" in bad(codecs.decode_body, b"[" * 100_000, "json", None, None)


def test_undecodable_bytes_name_offset_and_charset() -> None:
    message = bad(codecs.decode_body, b'{"a":"\xff"}', "json", None, None)
    assert message == "body must be text in utf-8 (the default) (got byte 0xff at offset 6: invalid start byte)"


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "iso8859-1"])
def test_json_in_each_charset(codec: str) -> None:
    text = '{"Description": "café ☺"}' if codec != "iso8859-1" else '{"Description": "café"}'
    pairs = codecs.decode_body(text.encode(codec), "json", codec, codec)
    assert dict(pairs)["Description"] == text.split('"')[3]


def test_xml_any_root_namespaced_children_by_local_name() -> None:
    body = xml_body(root="Anything", ns="http://www.superoffice.net/ws/crm/NetServer/Services88")
    pairs = codecs.decode_body(body, "xml", None, None)
    assert [name for name, _ in pairs] == ["Type", "Image", "Description"]
    assert dict(pairs)["Image"] == b64(PNG)


def test_xml_nil_is_none_and_nested_element_is_flagged() -> None:
    body = (
        b'<r xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        b'<Description i:nil="true"/><Image><x>1</x></Image><Type/></r>'
    )
    pairs = dict(codecs.decode_body(body, "xml", None, None))
    assert pairs["Description"] is None
    assert repr(pairs["Image"]) == "an element containing <x>"
    assert pairs["Type"] == ""


@pytest.mark.parametrize(
    ("encoding", "codec"),
    [("utf-16", "utf-16"), ("iso-8859-1", "iso8859-1"), ("utf-8", "utf-8"), ("mac-roman", "mac-roman")],
)
def test_xml_charset_parameter_wins_over_the_declaration(encoding: str, codec: str) -> None:
    # The declaration says utf-8 whatever the bytes are: the HTTP charset decides.
    text = '<?xml version="1.0" encoding="utf-8"?><r><Description>café</Description></r>'
    pairs = codecs.decode_body(text.encode(encoding), "xml", codec, encoding)
    assert dict(pairs)["Description"] == "café"


def test_xml_without_charset_follows_its_own_declaration() -> None:
    body = xml_body(description="café", encoding="utf-16")
    assert dict(codecs.decode_body(body, "xml", None, None))["Description"] == "café"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "an empty body"),
        (b"<a><b>", "Premature end of data"),
        (b"<a/>trailing", "Extra content at the end of the document"),
        (b'<!DOCTYPE a [<!ENTITY x "boom">]><a><Image>&x;</Image></a>', "without a DTD"),
        (b'<!DOCTYPE a SYSTEM "http://example.invalid/x.dtd"><a/>', "without a DTD"),
        (b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a><Image>&x;</Image></a>', "without a DTD"),
    ],
)
def test_xml_hostile_or_broken_bodies_are_400(body: bytes, fragment: str) -> None:
    assert fragment in bad(codecs.decode_body, body, "xml", None, None)


def test_billion_laughs_is_refused_without_expansion() -> None:
    lol = b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10) for i in range(9)
    )
    body = lol + b"]><r><Description>&j;</Description></r>"
    message = bad(codecs.decode_body, body, "xml", None, None)
    # libxml2 may stop it at the amplification guard or it reaches the DTD check; never expanded.
    assert message.startswith("body must be")
    assert "aaaaaaaaaaaaaaaaaaaa" not in message


def test_form_body_pairs_and_charset() -> None:
    pairs = codecs.decode_body(form_body(description="café"), "form", None, None)
    assert dict(pairs) == {"Type": "PersonImage", "Image": b64(PNG), "Description": "café"}
    latin = form_body(description="café", encoding="iso-8859-1")
    assert dict(codecs.decode_body(latin, "form", "iso8859-1", "iso-8859-1"))["Description"] == "café"


def test_form_body_with_bad_percent_encoding_is_400() -> None:
    assert "percent-encoded in utf-8" in bad(codecs.decode_body, b"Description=%ff", "form", None, None)


def test_encode_int_json_and_xml() -> None:
    assert codecs.encode_int(33, "json") == b"33"
    assert codecs.encode_int(33, "xml") == f'<int xmlns="{SERIALIZATION_NS}">33</int>'.encode()


def test_encode_error_xml_is_well_formed_and_escapes_client_text() -> None:
    err = ApiError(400, [Violation("body.Image", "base64", "'<&>'")], message="bad <thing> & \x01 control")
    root = etree.fromstring(codecs.encode_error(err.body(), "xml"))
    ns = {"e": codecs.ERROR_NS}
    assert root.findtext("e:Error", namespaces=ns) == "true"
    assert root.findtext("e:ErrorType", namespaces=ns) == "ArgumentException"
    assert root.findtext("e:Message", namespaces=ns) == "bad <thing> & \\x01 control"
    assert root.findtext("e:Violations/e:Violation/e:Got", namespaces=ns) == "'<&>'"
