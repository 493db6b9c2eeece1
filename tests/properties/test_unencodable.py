"""Text UTF-8 cannot carry is recorded, printable and without loss; no answer is a 500 because of it.

A lone surrogate (JSON's ``"\\ud800"``) and a header byte that is not UTF-8 (aiohttp reads it as a
surrogate, ``surrogateescape``) used to be saved and then break ``/_calls``, ``/_calls/{seq}`` and
the page with 500s until ``/_reset``, or the save itself (an enum, a state file). The regressions
reproduce each attack over a real socket; the properties then send arbitrary such text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import FakeServer, ThreadedFakeServer
from mockserver.core.vocabulary._printable import printable, restore

from .strategies import budget
from .wire import (
    GIF_1X1_B64,
    exchange,
    exchange_sync,
    journal_views,
    journal_views_sync,
    request_bytes,
)

README_GIF = "R0lGODlhAQABAAAAACw="


def body(description: str | None = None, type_: str = "PersonImage", **extra: object) -> bytes:
    value: dict[str, object] = {"Type": type_, "Image": GIF_1X1_B64, **extra}
    if description is not None:
        value["Description"] = description
    return json.dumps(value).encode()  # ensure_ascii: a lone surrogate goes out as the escape \udXXX


# ---- the attacks from the issue ------------------------------------------------------------


async def test_regression_a_lone_surrogate_description_is_saved_and_the_journal_still_answers() -> None:
    async with FakeServer(port=0) as fake:
        raw = b'{"Type":"PersonImage","Image":"' + README_GIF.encode() + b'","Description":"\\ud800"}'
        status, _, answer = await exchange(fake, request_bytes(raw))
        assert (status, answer) == (200, b"1")  # a .NET string holds a lone surrogate
        views = await journal_views(fake, 1)
        assert views["one"]["request"]["Description"] == "\\ud800"  # the 6 characters
        assert views["calls"]["calls"][0]["request"]["Description"] == "\\ud800"
        assert "\\ud800" in views["page"]
        assert restore(fake.calls.last.description or "") == "\ud800"
        assert fake.images.entry(1).description == "\\ud800"  # type: ignore[union-attr]


async def test_regression_a_latin1_header_byte_is_recorded_as_an_escape_and_the_journal_still_answers() -> None:
    async with FakeServer(port=0) as fake:
        status, _, _ = await exchange(fake, request_bytes(body("x"), [(b"SO-Language", b"n\xf8")]))
        assert status == 200
        record = fake.calls.last
        assert record.header("SO-Language") == "n\\xf8"
        assert restore("n\\xf8").encode("utf-8", "surrogateescape") == b"n\xf8"
        assert [w.location for w in record.warnings] == ["header.SO-Language"]  # not a language code
        assert "\\xf8" in record.warnings[0].got
        views = await journal_views(fake, record.seq)
        assert ["SO-Language", "n\\xf8"] in views["one"]["headers"]
        assert "n\\xf8" in views["page"]


@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
async def test_regression_a_lone_surrogate_type_is_a_400_whose_violation_can_be_encoded(accept: str) -> None:
    async with FakeServer(port=0) as fake:
        raw = b'{"Type":"\\udfff","Image":"' + README_GIF.encode() + b'"}'
        status, headers, answer = await exchange(fake, request_bytes(raw, [(b"Accept", accept.encode())]))
        assert status == 400 and headers["content-type"].startswith(accept)
        text = answer.decode("utf-8")  # valid UTF-8, so any client can read it
        assert "\\udfff" in text and "which is not a BlobLinkType" in text
        if accept == "application/json":
            got = json.loads(text)["Violations"][0]["got"]
            assert got == "'\\udfff', which is not a BlobLinkType"
        await journal_views(fake, fake.calls.last.seq)
        assert fake.next_id == 1


async def test_regression_with_a_state_file_the_save_is_answered_journaled_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.db"
    raw = request_bytes(body("\ud800 and \udcf8"), [(b"X-Client", b"caf\xe9")])
    async with FakeServer(port=0, state=state) as fake:
        status, _, answer = await exchange(fake, raw)
        assert (status, answer) == (200, b"1")
        before = fake.calls.last.to_json()
        await journal_views(fake, 1)
    async with FakeServer(port=0, state=state) as again:
        assert [c.to_json() for c in again.calls] == [before]
        assert before["request"]["Description"] == "\\ud800 and \\xf8"
        assert again.images.entry(1).description == "\\ud800 and \\xf8"  # type: ignore[union-attr]
        assert ["X-Client", "caf\\xe9"] in before["headers"]
        await journal_views(again, 1)
        status, _, answer = await exchange(again, request_bytes(body("next")))
        assert (status, answer) == (200, b"2")


async def test_a_literal_backslash_escape_stays_distinguishable_from_the_character() -> None:
    async with FakeServer(port=0) as fake:
        for text in ("\ud800", "\\ud800", "\\\\ud800", "C:\\x80", "plain \\ backslash"):
            status, _, _ = await exchange(fake, request_bytes(body(text)))
            assert status == 200
        recorded = [c.description for c in fake.calls]
    assert recorded == ["\\ud800", "\\\\ud800", "\\\\\\\\ud800", "C:\\\\x80", "plain \\ backslash"]
    assert [restore(r or "") for r in recorded] == ["\ud800", "\\ud800", "\\\\ud800", "C:\\x80", "plain \\ backslash"]


async def test_a_surrogate_property_name_is_a_printable_warning_and_in_strict_mode_a_400() -> None:
    raw = body("x", **{"\ud83d": 1})
    async with FakeServer(port=0) as fake:
        assert (await exchange(fake, request_bytes(raw)))[0] == 200
        assert fake.calls.last.warnings[0].location == "body.\\ud83d"
    async with FakeServer(port=0, strict=True) as strict:
        status, _, answer = await exchange(strict, request_bytes(raw))
        assert status == 400
        assert json.loads(answer)["Violations"][0]["location"] == "body.\\ud83d"
        await journal_views(strict, 1)


# ---- any such text ---------------------------------------------------------------------------

# Any code point, surrogates included, and the text that looks like an escape.
wild_text = st.lists(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF) | st.sampled_from(["\\", "\\ud800", "\\xf8", "\udcf8"]),
    max_size=16,
).map("".join)
# Any header bytes but the line breaks that would end the header (NUL and the like: aiohttp
# refuses the request, which is journaled all the same).
header_bytes = st.binary(max_size=24).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
header_names = st.sampled_from([b"SO-Language", b"Accept-Language", b"SO-TimeZone", b"X-Anything", b"User-Agent"])
type_values = st.one_of(st.just("PersonImage"), wild_text)


@st.composite
def wild_requests(draw: st.DrawFn) -> tuple[bytes, str, str, list[tuple[bytes, bytes]]]:
    description, type_ = draw(wild_text), draw(type_values)
    extra = draw(st.dictionaries(wild_text, wild_text, max_size=2))
    headers = draw(st.lists(st.tuples(header_names, header_bytes), max_size=3))
    return request_bytes(body(description, type_, **extra), headers), description, type_, headers


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedFakeServer]:
    with ThreadedFakeServer(port=0, journal_limit=0) as fake:
        yield fake


def _check_recorded(fake: ThreadedFakeServer, seq: int, description: str, headers: list[tuple[bytes, bytes]]) -> None:
    views = journal_views_sync(fake.host, fake.port, seq)
    record = fake.state.journal.get(seq)
    assert record is not None and views["one"] == {**record.to_json(), "tenant": ""}
    assert views["calls"]["calls"][-1]["seq"] == seq
    assert f'data-seq="{seq}"' in views["page"]
    if record.accepted:
        assert restore(record.description or "") == description
        for sent_name in {name for name, _ in headers}:
            sent = [value for name, value in headers if name == sent_name]
            kept = [v for k, v in record.headers if k.lower() == sent_name.decode().lower()]
            if all(value.strip(b" \t") == value for value in sent):  # aiohttp trims the edges
                assert [restore(v).encode("utf-8", "surrogateescape") for v in kept] == sent


@budget(80)
@given(request=wild_requests())
def test_any_text_in_the_body_or_header_bytes_is_journaled_and_every_view_answers(
    served: ThreadedFakeServer, request: tuple[bytes, str, str, list[tuple[bytes, bytes]]]
) -> None:
    raw, description, _type, headers = request
    before = served.state.journal.total
    status, _, answer = exchange_sync(served.host, served.port, raw)
    assert status in {200, 400}, answer[:300]
    answer.decode("utf-8")
    assert served.state.journal.total == before + 1
    _check_recorded(served, served.calls.last.seq, description, headers)


@budget(15)
@given(request=wild_requests())
def test_any_such_request_survives_a_restart_of_a_state_file(
    tmp_path_factory: pytest.TempPathFactory, request: tuple[bytes, str, str, list[tuple[bytes, bytes]]]
) -> None:
    raw, description, _type, headers = request
    state = tmp_path_factory.mktemp("state") / "state.db"
    with ThreadedFakeServer(port=0, state=state) as fake:
        status, _, answer = exchange_sync(fake.host, fake.port, raw)
        assert status in {200, 400}, answer[:300]
        before = [c.to_json() for c in fake.calls]
    with ThreadedFakeServer(port=0, state=state) as again:
        assert [c.to_json() for c in again.calls] == before
        _check_recorded(again, 1, description, headers)


def test_printable_is_lossless_and_always_encodable() -> None:
    @given(wild_text)
    def check(text: str) -> None:
        shown = printable(text)
        shown.encode("utf-8")
        assert restore(shown) == text

    check()
