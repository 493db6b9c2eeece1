"""The hot path's shortcuts give exactly what the general code gives.

`validation.bind` tries a fast path for the usual body (each property once, by its canonical
name, with a plain value) and falls back to the general binder on anything else. These tests
compare the two on generated bodies: every Binding field, with dict order.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mockserver.core.answering.answers import _ERROR_BODIES, ERROR_CACHE_MAX_BYTES, ERROR_CACHE_SIZE, error_bytes
from mockserver.core.answering.behaviours import Result
from mockserver.core.body.binding import Binding, _bind_fast, _bind_general, bind
from mockserver.core.body.codecs import _local_name, _parse_form, decode_json, decode_xml, encode_error
from mockserver.core.exchange import Outcome
from mockserver.core.loader import load_contracts
from mockserver.core.vocabulary._bounded import BoundedCache
from mockserver.core.vocabulary.contract import Contract, Property
from mockserver.core.vocabulary.errors import ApiError, Violation
from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.records import CallRecord, guarded

CONTRACTS = list(load_contracts())
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _names(contract: Contract) -> list[str]:
    names = []
    for p in contract.properties:
        names += [p.name, p.name.lower(), p.name.upper()]
    return [*names, "Unknown", "image2"]


def _enum_texts(contract: Contract) -> list[str]:
    out = []
    for p in contract.properties:
        if p.enum is not None:
            for k in list(p.enum.members)[:4]:
                out += [k, k.lower(), f" {k}", "1", "999"]
    return out


def _values(contract: Contract) -> st.SearchStrategy[Any]:
    images = st.one_of(st.binary(max_size=40), st.binary(max_size=20).map(lambda b: PNG + b), st.just(PNG))
    b64 = images.map(lambda b: base64.b64encode(b).decode("ascii"))
    return st.one_of(
        st.none(),
        st.text(max_size=12),
        st.sampled_from([*_enum_texts(contract), "", "true", "False", "42", "AAAA", "AA==", "A===", "@@@@"]),
        b64,
        b64.map(lambda s: s.rstrip("=")),
        b64.map(lambda s: s[:4] + "\n" + s[4:]),
        st.integers(min_value=-(2**32), max_value=2**32),
        st.sampled_from([0, 1, 2, 19, 20, -1, 2**31 - 1, 2**31]),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.integers(min_value=-1, max_value=256), max_size=5),
    )


def _plain(prop: Property) -> st.SearchStrategy[Any]:
    """Values that usually bind without a problem, so the fast path answers."""
    if prop.enum is not None:
        return st.one_of(st.sampled_from(list(prop.enum.members)), st.sampled_from(list(prop.enum.by_number)))
    if prop.type == "bytes":
        return st.binary(max_size=20).map(lambda b: base64.b64encode(PNG + b).decode("ascii"))
    if prop.type == "int32":
        return st.integers(min_value=-(2**31), max_value=2**31 - 1)
    if prop.type == "bool":
        return st.booleans()
    return st.text(max_size=12)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[Contract, list[tuple[str, Any]], str]:
    contract = draw(st.sampled_from(CONTRACTS))
    family = draw(st.sampled_from(["json", "xml", "form"]))
    # Mostly well-formed bodies (every property once, canonical names), so the fast path is
    # exercised as much as the fall-backs.
    if draw(st.booleans()):
        props = list(contract.properties)
        keep = draw(st.lists(st.sampled_from(range(len(props))), unique=True, max_size=len(props)))
        pairs = [(props[i].name, draw(st.one_of(_plain(props[i]), _values(contract)))) for i in keep]
    else:
        pairs = draw(st.lists(st.tuples(st.sampled_from(_names(contract)), _values(contract)), max_size=5))
    return contract, pairs, family


def _snapshot(b: Binding) -> tuple[Any, ...]:
    return (list(b.values.items()), b.violations, b.warnings, list(b.images.items()))


@settings(max_examples=300)
@given(bodies())
def test_bind_is_the_general_binder(body: tuple[Contract, list[tuple[str, Any]], str]) -> None:
    contract, pairs, family = body
    assert _snapshot(bind(pairs, contract, family)) == _snapshot(_bind_general(pairs, contract, family))


@settings(max_examples=300)
@given(bodies())
def test_fast_path_agrees_whenever_it_answers(body: tuple[Contract, list[tuple[str, Any]], str]) -> None:
    contract, pairs, family = body
    fast = _bind_fast(pairs, contract, family)
    if fast is not None:
        general = _bind_general(pairs, contract, family)
        assert _snapshot(fast) == _snapshot(general)
        assert not general.warnings
        assert all(v.expected.startswith("base64") for v in general.violations)  # bad base64 only


@pytest.mark.parametrize("family", ["json", "xml", "form"])
def test_the_usual_save_takes_the_fast_path(family: str) -> None:
    contract = next(c for c in CONTRACTS if c.name == "SaveImageStream")
    pairs: list[tuple[str, Any]] = [
        ("Type", "PersonImage"),
        ("Image", base64.b64encode(PNG).decode()),
        ("Description", "x"),
    ]
    fast = _bind_fast(pairs, contract, family)
    assert fast is not None
    assert fast.values == {"Type": "PersonImage", "Image": PNG, "Description": "x"}
    assert fast.images["Image"].format == "png"


@pytest.mark.parametrize(
    "pairs",
    [
        [("type", "PersonImage"), ("Image", "AAAA")],  # a case variant of a name
        [("Type", "PersonImage"), ("Image", "AAAA"), ("Image", "AAAA")],  # a duplicate
        [("Type", " PersonImage"), ("Image", "AAAA")],  # an enum name the general path strips
        [("Type", "PersonImage")],  # the required image missing
        [("Type", "PersonImage"), ("Image", "AAAA"), ("Extra", "1")],  # an unknown property
        [("Type", None), ("Image", "AAAA")],  # a null
    ],
)
def test_anything_unusual_falls_back(pairs: list[tuple[str, Any]]) -> None:
    contract = next(c for c in CONTRACTS if c.name == "SaveImageStream")
    assert _bind_fast(pairs, contract, "json") is None


@pytest.mark.parametrize("family", ["json", "xml", "form"])
@pytest.mark.parametrize("image", ["AA", "not*base64!", "QUJD=RA=", "A==="])
def test_bad_base64_alone_is_answered_by_the_fast_path_as_the_general_one(family: str, image: str) -> None:
    contract = next(c for c in CONTRACTS if c.name == "SaveImageStream")
    pairs: list[tuple[str, Any]] = [("Type", "PersonImage"), ("Image", image), ("Description", "x")]
    fast = _bind_fast(pairs, contract, family)
    assert fast is not None
    assert [v.location for v in fast.violations] == ["body.Image"]
    assert _snapshot(fast) == _snapshot(_bind_general(pairs, contract, family))


def _record_values() -> dict[str, Any]:
    # Every field of a typical record (guarded looks into its text), each value distinct.
    from mockserver.core.vocabulary.records import NO_AUTH, NO_LOCALE

    values = {f.name: f"value of {f.name}" for f in dataclasses.fields(CallRecord)}
    values.update(query=(), select=(), headers=(), auth=NO_AUTH, locale=NO_LOCALE, request={})
    return values | {"violations": (), "warnings": (), "seq": 1, "time": 0.0, "status": 200, "extra": {}}


def test_a_record_within_the_guards_is_kept_as_built() -> None:
    values = _record_values()
    record = CallRecord(**values)
    assert guarded(record) is record
    assert [getattr(record, name) for name in values] == list(values.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.seq = 2  # type: ignore[misc]


def test_a_record_past_the_guards_is_capped_and_made_printable() -> None:
    from mockserver.core.vocabulary.errors import KEPT_PER_CALL

    many = tuple(Violation(f"body.p{i}", "x", "y") for i in range(KEPT_PER_CALL + 5))
    record = guarded(CallRecord(**(_record_values() | {"violations": many, "path": "/p\ud800"})))
    assert len(record.violations) <= KEPT_PER_CALL + 1
    assert record.path == "/p\\ud800"


def test_the_plain_constructors_build_what_the_core_uses() -> None:
    assert ImageInfo.of(PNG) == ImageInfo(len(PNG), hashlib.sha256(PNG).hexdigest(), "png")
    assert Result(value=3, blob_id=3) == Result(3, 3)
    record = CallRecord(**_record_values())
    outcome = Outcome(200, b"1", None, {}, record)
    assert outcome.record is record and outcome.fault is None


def test_a_bounded_cache_drops_its_oldest_entry_to_make_room() -> None:
    cache: BoundedCache[int, str] = BoundedCache(3)
    for i in range(5):
        cache.put(i, str(i))
    assert list(cache) == [2, 3, 4] and len(cache) == 3
    cache.put(3, "again")  # a key it holds: replaced, nothing dropped
    assert list(cache) == [2, 3, 4] and cache.get(3) == "again"
    assert cache.get_or_make(9, str) == "9" and 2 not in cache


def test_a_keep_first_cache_stops_adding_once_full() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2, keep_first=True)
    assert [cache.get_or_make(k, len) for k in ("a", "bb", "ccc")] == [1, 2, 3]
    assert list(cache) == ["a", "bb"]


def test_a_bounded_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BoundedCache(0)


@given(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True),
    st.sampled_from(["", "urn:x", "http://schemas.datacontract.org/2004/07/SuperOffice"]),
)
def test_local_name_is_lxml_qname(local: str, namespace: str) -> None:
    tag = f"{{{namespace}}}{local}" if namespace else local
    assert _local_name(tag) == etree.QName(tag).localname


def test_a_reused_xml_parser_answers_as_a_fresh_one() -> None:
    good = b"<SaveImageStream><Type>PersonImage</Type><Image i:nil='true' xmlns:i='x'/></SaveImageStream>"
    bad = [b"<a><b>", b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", b"\xff\xfe<"]
    first = {body: _violations(body) for body in bad}
    assert decode_xml(good, None) == [("Type", "PersonImage"), ("Image", "")]
    for body in bad:  # after other parses on the same parser, the same answers
        assert _violations(body) == first[body]
        assert decode_xml(good, None) == [("Type", "PersonImage"), ("Image", "")]


def _violations(body: bytes) -> list[Violation]:
    with pytest.raises(ApiError) as caught:
        decode_xml(body, None)
    return caught.value.violations


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_cached_error_bodies_are_the_encoded_error(fmt: str) -> None:
    errors = [
        ApiError(400, [Violation("body.Image", "base64", "'not*' : bad")]),
        ApiError(400, [Violation("body.Image", "base64", "'not*' : bad")], message="another message"),
        ApiError(415, [Violation("header.Content-Type", "one of a, b", "c")], error_type="Custom"),
        ApiError(400, [Violation("body.Image", "base64", "'x' & <y>")]),
    ]
    for _ in range(2):  # the second round answers from the cache
        for err in errors:
            assert error_bytes(err, fmt) == encode_error(err.body(), fmt)


def test_the_error_cache_is_bounded() -> None:
    for i in range(ERROR_CACHE_SIZE + 10):
        error_bytes(ApiError(400, [Violation("body.Image", "base64", str(i))]), "json")
    assert len(_ERROR_BODIES) <= ERROR_CACHE_SIZE
    huge = ApiError(400, [Violation("body.Image", "base64", "x" * (ERROR_CACHE_MAX_BYTES + 1))])
    error_bytes(huge, "json")
    assert all(len(_ERROR_BODIES.get(key) or b"") <= ERROR_CACHE_MAX_BYTES for key in _ERROR_BODIES)


_FORM_TEXT = st.lists(
    st.sampled_from(["a", "Type", "=", "&", "+", "%", "%2B", "%3D", "%C3%A9", "%ff", "%E9", "%zz", "é", ";", "%2"]),
    max_size=12,
).map("".join)


@settings(max_examples=300)
@given(_FORM_TEXT, st.sampled_from(["utf-8", "iso-8859-1", "ascii"]))
def test_form_fast_path_is_parse_qsl(text: str, codec: str) -> None:
    def outcome(parse: Callable[[], object]) -> object:
        try:
            return parse()
        except (UnicodeDecodeError, ValueError) as exc:
            return type(exc), str(exc)

    expected = outcome(lambda: parse_qsl(text, keep_blank_values=True, encoding=codec, errors="strict"))
    assert outcome(lambda: _parse_form(text, codec)) == expected


_JSON_TEXT = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=6,
    ).map(json.dumps),
    st.lists(st.sampled_from(['{"a":1}', "{", "}", " ", '"x"', ":", ",", "NaN", "[", "]", "1"]), max_size=8).map(
        "".join
    ),
)


@settings(max_examples=300)
@given(_JSON_TEXT)
def test_json_fast_scan_is_the_decoder(text: str) -> None:
    def outcome(parse: Callable[[], object]) -> object:
        try:
            value = parse()
        except ApiError as exc:
            return exc.violations
        return type(value), value

    def general() -> object:
        with mock.patch("mockserver.core.body.codecs._scan_object", return_value=None):
            return decode_json(text)

    assert outcome(lambda: decode_json(text)) == outcome(general)
