"""Odd ids and filter values on the /_ routes are a 400 or 404, never a 500, and never journaled.

"²" is a digit to `str.isdigit()` but not to `int()`; 5,000 digits pass `isdigit()` and exceed
Python's limit on int() of a string; 20 digits overflow SQLite's 64-bit integers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer
from mockserver.http import debug
from mockserver.http.responses import whole_number

from ..support import json_headers, save_body

SUPERSCRIPT_TWO = "%C2%B2"
MANY_DIGITS = "9" * 5000
ODD = [SUPERSCRIPT_TWO, "%D9%A3", MANY_DIGITS, "99999999999999999999", "-1", "1e3", "0x10", "%20"]
ROUTES = [
    ("GET", "/_images/{}"),
    ("GET", "/_calls/{}"),
    ("GET", "/_calls?since={}"),
    ("GET", "/_calls?limit={}"),
    ("DELETE", "/_faults/{}"),
]


@pytest.fixture(params=["memory", "state"])
async def fake(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FakeServer]:
    state = tmp_path / "state.db" if request.param == "state" else None
    async with FakeServer(port=0, state=state) as server, ClientSession() as http:
        async with http.post(server.api_url, data=save_body(), headers=json_headers()) as resp:
            assert resp.status == 200
        yield server


@pytest.mark.parametrize(
    "value",
    ODD,
    ids=["superscript-two", "arabic-indic-three", "5000-digits", "20-digits", "minus", "exponent", "hex", "space"],
)
@pytest.mark.parametrize(("method", "route"), ROUTES)
async def test_odd_ids_and_filters_are_400_or_404_in_the_error_shape(
    fake: FakeServer, method: str, route: str, value: str
) -> None:
    before = fake.state.journal.total
    async with ClientSession() as http, http.request(method, fake.url + route.format(value)) as resp:
        body = json.loads(await resp.read())
        assert resp.status in (400, 404), body
    assert body["Error"] is True and body["Violations"]
    assert fake.state.journal.total == before  # before, the 500s were journaled


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("/_images/999999999999999999", 404),
        ("/_images/0001", 200),
        ("/_calls/1", 200),
        ("/_calls/18446744073709551616", 400),
    ],
)
async def test_ids_up_to_18_digits_are_looked_up(fake: FakeServer, route: str, status: int) -> None:
    async with ClientSession() as http, http.get(fake.url + route) as resp:
        await resp.read()
        assert resp.status == status


def test_whole_number_takes_ascii_digits_only() -> None:
    assert whole_number("42") == 42 and whole_number(" 7 ") == 7 and whole_number("0" * 18) == 0
    for raw in ("²", "٣", "", "-1", "+1", "1_000", "9" * 19, "9" * 5000, "１"):
        assert whole_number(raw) is None, raw


async def test_a_crash_on_a_debug_route_is_answered_but_not_journaled(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setitem(debug.ROUTES["/_health"], "GET", broken)
    before = fake.state.journal.total
    async with ClientSession() as http, http.get(fake.url + "/_health") as resp:
        body = json.loads(await resp.read())
        assert resp.status == 500
    assert body["Violations"][0]["location"] == "server"
    assert fake.state.journal.total == before


# ---- the browser's favicon request -----------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_favicon_is_204_and_not_journaled(fake: FakeServer, method: str) -> None:
    before = fake.state.journal.total
    async with ClientSession() as http, http.request(method, fake.url + "/favicon.ico") as resp:
        assert resp.status == 204 and await resp.read() == b""
    assert fake.state.journal.total == before
