"""Any id or filter value on the /_ routes: a 200, 400 or 404 in the error shape, never a 500, never journaled."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import ThreadedFakeServer

from ..support import json_headers, save_body
from .strategies import budget

ROUTES = (
    ("GET", "/_images/{}"),
    ("GET", "/_calls/{}"),
    ("GET", "/_calls?since={}"),
    ("GET", "/_calls?limit={}"),
    ("GET", "/_calls?outcome={}"),
    ("DELETE", "/_faults/{}"),
)
# Text that looks like a number to someone: Unicode digits and numerals, signs, huge and tiny ones.
values = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.text(st.characters(categories=("Nd", "No", "Nl")), min_size=1, max_size=20),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.from_regex(r"[0-9]{15,25}", fullmatch=True),
    st.integers(min_value=4000, max_value=6000).map(lambda n: "9" * n),
    st.sampled_from(["²", "1e3", "0x1f", "1_000", " 1", "1 ", "+1", "١٢٣", "", ".", ".."]),
)


@pytest.fixture(scope="module", params=["memory", "state"])
def fake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedFakeServer]:
    state: Path | None = tmp_path_factory.mktemp("state") / "fake.db" if request.param == "state" else None
    with ThreadedFakeServer(port=0, state=state) as server:
        status, _ = exchange(server, "POST", server.api_url.removeprefix(server.url), save_body(), json_headers())
        assert status == 200
        yield server


def exchange(
    fake: ThreadedFakeServer, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(fake.host, fake.port, timeout=30)
    try:
        conn.request(method, target, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def encoded(value: str) -> str:
    # Dots too: "/_images/.." would otherwise be resolved to "/" before any route sees it.
    return quote(value, safe="").replace(".", "%2E")


@budget(120)
@given(route=st.sampled_from(ROUTES), value=values)
def test_any_id_or_filter_is_200_400_or_404_and_never_journaled(
    fake: ThreadedFakeServer, route: tuple[str, str], value: str
) -> None:
    method, pattern = route
    before = fake.state.journal.total

    status, body = exchange(fake, method, pattern.format(encoded(value)))

    assert status in (200, 400, 404), (status, body[:300])
    if status != 200:
        error = json.loads(body)
        assert error["Error"] is True and error["Violations"], error
    assert fake.state.journal.total == before
