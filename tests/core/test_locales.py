"""Language, culture, timezone, app token and $select: precedence rules and warnings."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from mockserver import Fake, FakeServer, Locale, RawRequest
from mockserver.core.headers.locales import parse_select, read_locale

from ..support import SAVE_PATH, json_headers, save_body


def locale(*pairs: tuple[str, str]) -> tuple[Locale, list[str]]:
    result, warnings = read_locale(CIMultiDictProxy(CIMultiDict(list(pairs))))
    return result, [w.message for w in warnings]


def test_no_headers_no_locale_no_warnings() -> None:
    assert locale() == (Locale(), [])


# ---- language ----------------------------------------------------------------------------------


def test_so_language_overrides_accept_language() -> None:
    result, warnings = locale(("Accept-Language", "sv"), ("SO-Language", "nb"))
    assert (result.language, result.culture, result.translate, warnings) == ("nb", "nb", True, [])


@pytest.mark.parametrize(
    ("value", "language"),
    [
        ("en", "en"),
        ("da, en-gb;q=0.8, en;q=0.7", "da"),
        ("en;q=0.5, de;q=0.9, fr", "fr"),
        ("en;q=0.5, de;q=0.9", "de"),
        ("en;q=0.8, de;q=0.8", "en"),  # ties keep the client's order
        ("*, sv;q=0.1", "sv"),  # * expresses no preference
        ("*", None),
        ("en;q=0, de;q=0.2", "de"),  # q=0 means "not this one"
        ("en;q=0", None),
    ],
)
def test_accept_language_q_values(value: str, language: str | None) -> None:
    result, warnings = locale(("Accept-Language", value))
    assert result.language == language
    assert warnings == []


@pytest.mark.parametrize("off", ["*", "x", "X"])
def test_so_language_star_or_x_turns_translation_off(off: str) -> None:
    result, _ = locale(("SO-Language", off), ("Accept-Language", "en"))
    assert (result.language, result.translate, result.culture) == (None, False, None)
    # A culture still applies: a language header was sent.
    result, _ = locale(("SO-Language", off), ("SO-Culture", "nb-NO"))
    assert (result.translate, result.culture) == (False, "nb-NO")


def test_malformed_so_language_is_a_warning_and_accept_language_applies() -> None:
    result, warnings = locale(("SO-Language", "english!"), ("Accept-Language", "de"))
    assert result.language == "de"
    assert warnings == [
        "header.SO-Language must be a language code such as en or nb, or * / x for no translation (got 'english!')"
    ]


@pytest.mark.parametrize(
    ("value", "language", "bad"),
    [
        ("en;q=2", None, "en;q=2"),
        ("en;q=abc, de", "de", "en;q=abc"),
        ("en;level=1, sv;q=0.3", "sv", "en;level=1"),
        ("e_n, nb;q=0.4", "nb", "e_n"),
    ],
)
def test_malformed_accept_language_entries_are_warnings(value: str, language: str | None, bad: str) -> None:
    result, warnings = locale(("Accept-Language", value))
    assert result.language == language
    assert len(warnings) == 1 and warnings[0].startswith("header.Accept-Language must be")
    assert f"(got '{bad}')" in warnings[0]


# ---- culture -----------------------------------------------------------------------------------


def test_culture_defaults_to_the_language_and_so_culture_overrides_it() -> None:
    assert locale(("Accept-Language", "nb"))[0].culture == "nb"
    assert locale(("Accept-Language", "nb"), ("SO-Culture", "en-US"))[0].culture == "en-US"
    assert locale(("SO-Language", "sv"), ("SO-Culture", "fi"))[0].culture == "fi"


def test_culture_is_ignored_without_any_language() -> None:
    result, warnings = locale(("SO-Culture", "en-US"))
    assert (result.language, result.culture, warnings) == (None, None, [])


def test_malformed_culture_is_a_warning_and_falls_back_to_the_language() -> None:
    result, warnings = locale(("SO-Language", "nb"), ("SO-Culture", "12 34"))
    assert result.culture == "nb"
    assert warnings == ["header.SO-Culture must be a culture code such as nb-NO or en-US (got '12 34')"]


# ---- timezone, browser offset, app token ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "zone", "flag"),
    [
        ("UTC", "UTC", False),
        ("NO", "NO", False),
        ("US-NY", "US-NY", False),
        ("Europe/Oslo", "Europe/Oslo", False),
        ("9", "9", False),
        ("NO,includeTZOffset", "NO", True),
        ("US-NY, IncludeTzOffset", "US-NY", True),
        ("includeTZOffset", None, True),
    ],
)
def test_timezone_id_name_and_flag(value: str, zone: str | None, flag: bool) -> None:
    result, warnings = locale(("SO-TimeZone", value))
    assert (result.timezone, result.include_tz_offset, warnings) == (zone, flag, [])


@pytest.mark.parametrize(
    ("value", "zone", "bad"), [("NO,US-NY", "NO", "'US-NY'"), ("Oslo time", None, "'Oslo time'"), ("NO,", "NO", "''")]
)
def test_malformed_timezone_parts_are_warnings(value: str, zone: str | None, bad: str) -> None:
    result, warnings = locale(("SO-TimeZone", value))
    assert result.timezone == zone
    assert len(warnings) == 1 and warnings[0].startswith("header.SO-TimeZone must be a timezone id or name")
    assert f"(got {bad} in '{value}')" in warnings[0]


@pytest.mark.parametrize(("value", "minutes"), [("60", 60), ("-300", -300), ("+330", 330), ("0", 0), ("840", 840)])
def test_browser_tz_offset_in_minutes(value: str, minutes: int) -> None:
    assert locale(("SO-Browser-TZ-Offset", value)) == (Locale(browser_tz_offset=minutes), [])


@pytest.mark.parametrize("value", ["1.5", "UTC+1", "841", "-10000", "sixty"])
def test_bad_browser_tz_offset_is_a_warning(value: str) -> None:
    result, warnings = locale(("SO-Browser-TZ-Offset", value))
    assert result.browser_tz_offset is None
    assert warnings == [
        f"header.SO-Browser-TZ-Offset must be whole minutes east of UTC between -840 and 840 (got '{value}')"
    ]


def test_app_token_presence_is_recorded_never_its_value() -> None:
    result, _ = locale(("SO-AppToken", "appsecret"))
    assert result.app_token is True
    assert "appsecret" not in repr(result) and "appsecret" not in str(result.to_json())
    assert locale(("SO-AppToken", " "))[0].app_token is False


def test_duplicate_locale_headers_warn_and_use_the_first() -> None:
    result, warnings = locale(("SO-Language", "nb"), ("SO-Language", "sv"))
    assert result.language == "nb"
    assert warnings == ["header.SO-Language must be one header (got 2 SO-Language headers; used the first)"]


# ---- $select -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ((), ()),
        ((("$select", ""),), ()),
        ((("$select", "name,department,category/id"),), ("name", "department", "category/id")),
        ((("$SELECT", " Name , department "),), ("Name", "department")),
        ((("$select", "name,name"),), ("name",)),
        ((("other", "x"), ("$select", "a/b/c")), ("a/b/c",)),
    ],
)
def test_select_paths(query: tuple[tuple[str, str], ...], paths: tuple[str, ...]) -> None:
    assert parse_select(query) == (paths, [])


@pytest.mark.parametrize(
    ("raw", "paths", "got"),
    [
        ("name,,id", ("name", "id"), "an empty entry in 'name,,id'"),
        ("name,", ("name",), "an empty entry in 'name,'"),
        ("name,category//id", ("name",), "'category//id'"),
        ("na me", (), "'na me'"),
        ("1abc,ok", ("ok",), "'1abc'"),
        ("*", (), "'*'"),
    ],
)
def test_malformed_select_entries_are_warnings(raw: str, paths: tuple[str, ...], got: str) -> None:
    result, warnings = parse_select((("$select", raw),))
    assert result == paths
    assert [w.location for w in warnings] == ["query.$select"]
    assert warnings[0].got == got


def test_two_select_parameters_are_combined_with_a_warning() -> None:
    result, warnings = parse_select((("$select", "a"), ("$select", "b")))
    assert result == ("a", "b")
    assert warnings[0].got == "2; used them all"


# ---- through the pipeline and over HTTP -------------------------------------------------------


def test_warnings_become_a_400_naming_the_header_under_strict() -> None:
    request = RawRequest.build(
        "POST", SAVE_PATH, headers=json_headers(**{"SO-Browser-TZ-Offset": "abc"}), body=save_body()
    )
    lenient = Fake().process(request)
    assert lenient.status == 200
    assert [w.location for w in lenient.record.warnings] == ["header.SO-Browser-TZ-Offset"]
    strict = Fake(strict=True).process(request)
    assert strict.status == 400
    assert b"SO-Browser-TZ-Offset" in strict.body and b"abc" in strict.body


def test_select_warning_under_strict_is_a_400() -> None:
    request = RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(), query="$select=a%20b")
    outcome = Fake(strict=True).process(request)
    assert outcome.status == 400 and b"query.$select" in outcome.body


async def test_locale_select_and_unknown_headers_are_recorded_over_http() -> None:
    extra = {
        "Accept-Language": "sv;q=0.4, da",
        "SO-Culture": "nb-NO",
        "SO-TimeZone": "NO,includeTZOffset",
        "SO-Browser-TZ-Offset": "120",
        "SO-AppToken": "appsecret",
        "X-Custom-Thing": "kept",
        "User-Agent": "SO-TS-WebApi/1.0",
    }
    async with FakeServer(port=0) as fake, ClientSession() as http:
        url = fake.url + SAVE_PATH + "?$select=name,department,category/id"
        async with http.post(url, data=save_body(), headers=json_headers(**extra)) as resp:
            assert resp.status == 200
    record = fake.calls.last
    assert record.locale == Locale(
        language="da",
        culture="nb-NO",
        timezone="NO",
        include_tz_offset=True,
        browser_tz_offset=120,
        app_token=True,
    )
    assert record.select == ("name", "department", "category/id")
    assert record.header("X-Custom-Thing") == "kept"
    assert record.header("SO-AppToken") == "<redacted>"
    assert record.warnings == ()


_HEADER_TEXT = st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40)


@given(
    st.dictionaries(
        st.sampled_from(
            ["Accept-Language", "SO-Language", "SO-Culture", "SO-TimeZone", "SO-Browser-TZ-Offset", "SO-AppToken"]
        ),
        _HEADER_TEXT,
    ),
    _HEADER_TEXT,
)
def test_any_header_values_give_a_locale_and_named_warnings(values: dict[str, str], select: str) -> None:
    result, warnings = read_locale(CIMultiDictProxy(CIMultiDict(values)))
    assert isinstance(result, Locale)
    assert all(w.location.removeprefix("header.") in values for w in warnings)
    if result.culture is not None:
        assert "SO-Language" in values or "Accept-Language" in values
    paths, select_warnings = parse_select((("$select", select),))
    assert all(p and " " not in p for p in paths)
    assert all(w.location == "query.$select" for w in select_warnings)
