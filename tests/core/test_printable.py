"""printable.py: text UTF-8 cannot carry, escaped without loss; everything else as it came."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.vocabulary._printable import encodable, escape_surrogates, printable, restore
from mockserver.core.vocabulary.errors import preview
from mockserver.core.vocabulary.records import CallRecord, guarded

from .test_fast_paths import _record_values


@pytest.mark.parametrize(
    ("original", "recorded"),
    [
        ("plain", "plain"),
        ("é€𝄞", "é€𝄞"),
        ("C:\\temp\\new", "C:\\temp\\new"),  # a backslash that looks like no escape stays one
        ("\\xF8 \\uD800", "\\xF8 \\uD800"),  # upper-case hex is not what printable writes
        ("\ud800", "\\ud800"),
        ("n\udcf8", "n\\xf8"),  # an undecodable header byte
        ("\udc00", "\\udc00"),  # a low surrogate below the surrogateescape range
        ("a\\b\ud800", "a\\\\b\\ud800"),  # once escaped, every backslash doubles
        ("\\ud800", "\\\\ud800"),  # the escape's own text, sent literally, is escaped too
        ("\\xf8", "\\\\xf8"),
    ],
)
def test_the_documented_escapes(original: str, recorded: str) -> None:
    assert printable(original) == recorded
    assert restore(recorded) == original
    assert encodable(recorded)


@given(
    st.lists(st.characters() | st.sampled_from(["\\", "\\ud8", "\\ud800", "\\xf8", "\udcf8", "\udfff"])).map("".join)
)
def test_printable_is_lossless_encodable_and_idle_on_plain_text(text: str) -> None:
    shown = printable(text)
    shown.encode("utf-8")
    assert restore(shown) == text
    if encodable(text) and "\\" not in text:
        assert shown is text


def test_preview_quotes_surrogates_as_escapes() -> None:
    assert preview("\udfff") == "'\\udfff'"
    assert preview("n\udcf8") == "'n\\xf8'"
    assert escape_surrogates("a\\\\b") == "a\\\\b"


def test_a_record_built_with_unencodable_text_anywhere_is_printable() -> None:
    from mockserver.core.vocabulary.errors import Violation

    values = _record_values() | {
        "path": "/p\ud800",
        "query": (("q", "\udcf8"),),
        "content_type": "application/json; x=\udcff",
        "violations": (Violation("body.\ud800", "x", "\udfff"),),
        "fault": "label \ud800",
        "extra": {"k\ud800": ["\ud801"]},
    }
    record = guarded(CallRecord(**values))
    text = json.dumps(record.to_json(), ensure_ascii=False)
    text.encode("utf-8")
    assert record.path == "/p\\ud800" and record.query == (("q", "\\xf8"),)
    assert record.violations[0] == Violation("body.\\ud800", "x", "\\udfff")
    assert record.extra == {"k\\ud800": ["\\ud801"]}
