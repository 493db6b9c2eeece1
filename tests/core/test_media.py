"""Content-Type and Accept parsing, charsets and negotiation."""

from __future__ import annotations

import pytest

from mockserver.core.headers import media

OFFER = ("application/json", "text/json", "application/xml", "text/xml")


@pytest.mark.parametrize(
    ("value", "mtype", "charset"),
    [
        ("application/json", "application/json", None),
        ("Application/JSON; Charset=UTF-8", "application/json", "UTF-8"),
        ('text/xml; charset="iso-8859-1"', "text/xml", "iso-8859-1"),
        ("application/x-www-form-urlencoded;charset=utf-16", "application/x-www-form-urlencoded", "utf-16"),
        ('application/json; foo="a;b"; charset=utf-8', "application/json", "utf-8"),
    ],
)
def test_parse_media_type(value: str, mtype: str, charset: str | None) -> None:
    parsed = media.parse_media_type(value)
    assert parsed.type == mtype
    assert parsed.charset == charset


@pytest.mark.parametrize("value", ["json", "application/", "/json", "application/json; charset", "text /xml"])
def test_parse_media_type_rejects_malformed(value: str) -> None:
    with pytest.raises(media.MediaError):
        media.parse_media_type(value)


@pytest.mark.parametrize(
    ("label", "codec"),
    [("utf-8", "utf-8"), ("UTF-16", "utf-16"), ("iso-8859-1", "iso8859-1"), ("latin1", "iso8859-1")],
)
def test_charset_codec_knows_real_charsets(label: str, codec: str) -> None:
    assert media.charset_codec(label) == codec


@pytest.mark.parametrize("label", ["klingon", "base64", "rot13", "zlib", "", "\x00"])
def test_charset_codec_refuses_unknown_and_non_text_codecs(label: str) -> None:
    assert media.charset_codec(label) is None


def test_family_groups_the_seven_request_types() -> None:
    assert {media.family(t) for t in media.JSON_TYPES} == {"json"}
    assert {media.family(t) for t in media.XML_TYPES} == {"xml"}
    assert media.family("application/x-www-form-urlencoded") == "form"
    assert media.family("image/png") == "other"


def test_parse_accept_skips_malformed_entries_and_reports_them() -> None:
    items, problems = media.parse_accept("garbage, application/xml;q=0.5, text/json;q=2, text/xml;q=x")
    assert [(i.media, i.q) for i in items] == [("application/xml", 0.5)]
    assert list(problems) == [
        "'garbage' is not a type/subtype media type",
        "q-value '2' of 'text/json' is not between 0 and 1",
        "q-value 'x' of 'text/xml' is not a number",
    ]


def negotiate(accept: str) -> str | None:
    items, _ = media.parse_accept(accept)
    return media.negotiate(items, OFFER)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("application/json", "application/json"),
        ("text/json", "text/json"),
        ("application/xml", "application/xml"),
        ("text/xml", "text/xml"),
        ("application/json; charset=utf-8", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/*", "text/json"),
        ("application/json;q=0.2, application/xml;q=0.9", "application/xml"),
        ("application/xml, application/json", "application/xml"),
        ("application/json, application/xml", "application/json"),
        ("*/*;q=0.1, text/xml", "text/xml"),
        ("application/xml;q=0, */*", "application/json"),
        ("text/*;q=0.5, application/xml;q=0.4", "text/json"),
        ("application/*;q=0, text/xml;q=0.1", "text/xml"),
        ("image/png", None),
        ("application/json;q=0", None),
        ("*/*;q=0", None),
    ],
)
def test_negotiate(accept: str, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


@pytest.mark.parametrize(
    ("accept", "prefer", "chosen"),
    [
        ("*/*", "text/xml", "text/xml"),
        ("application/*", "application/xml", "application/xml"),
        ("application/*", "text/xml", "application/json"),
        ("application/json, */*", "application/xml", "application/json"),
        ("*/*;q=0.5, application/json;q=0.6", "application/xml", "application/json"),
    ],
)
def test_request_format_breaks_ties(accept: str, prefer: str, chosen: str) -> None:
    items, _ = media.parse_accept(accept)
    assert media.negotiate(items, OFFER, prefer=prefer) == chosen
