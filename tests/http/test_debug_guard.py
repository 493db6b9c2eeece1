"""Web pages driving the /_ routes: DNS rebinding (Host) and cross-site requests (Origin, Sec-Fetch-Site).

Each attack is what a browser sends for a hostile page: a rebound name in Host, a cross-site
form or fetch() with its Origin. Refusals are 403s in SuperOffice's error shape; /_ requests
are never journaled, refused or not.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer, Settings
from mockserver.core.config import env_overrides
from mockserver.http.guard import host_allowed, is_loopback, same_origin, split_host
from mockserver.tools.cli import build_parser, settings_and_sources

from ..support import json_headers, save_body

REBOUND = "evil.example:8080"


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeServer, ClientSession]]:
    async with FakeServer(port=0) as fake, ClientSession() as http:
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert resp.status == 200
        yield fake, http


async def answer(http: ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as resp:
        data = await resp.read()
        if resp.content_type == "application/json" and data:
            return resp.status, json.loads(data)
        return resp.status, data.decode("utf-8", "replace")


def assert_forbidden(status: int, body: Any, location: str) -> None:
    assert status == 403, body
    assert body["Error"] is True and body["ErrorType"] == "UnauthorizedAccessException"
    assert body["Violations"][0]["location"] == location


# ---- DNS rebinding: Host -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/_calls"), ("GET", "/_calls/1"), ("GET", "/_images/1"), ("GET", "/_health"), ("POST", "/_reset")],
)
async def test_a_rebound_host_is_refused_on_every_debug_route(
    served: tuple[FakeServer, ClientSession], method: str, path: str
) -> None:
    fake, http = served
    status, body = await answer(http, method, fake.url + path, headers={"Host": REBOUND})
    assert_forbidden(status, body, "header.Host")
    assert "--allowed-host" in body["Violations"][0]["expected"]
    assert len(fake.calls) == 1 and len(fake.images) == 1  # not journaled, not reset


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:1234", "localhost.", "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:8080"]
)
async def test_loopback_names_with_any_port_pass(served: tuple[FakeServer, ClientSession], host: str) -> None:
    fake, http = served
    status, body = await answer(http, "GET", fake.url + "/_calls", headers={"Host": host})
    assert status == 200 and len(body["calls"]) == 1


async def test_allowed_hosts_pass_and_others_still_do_not() -> None:
    async with (
        FakeServer(port=0, allowed_hosts=("fake.test", "other.test:9000")) as fake,
        ClientSession() as http,
    ):
        for host, status in (
            ("fake.test", 200),
            ("FAKE.test:8080", 200),
            ("other.test:9000", 200),
            ("other.test:9001", 403),
            ("evil.example", 403),
        ):
            assert (await answer(http, "GET", fake.url + "/_health", headers={"Host": host}))[0] == status, host


async def test_an_admin_token_replaces_the_host_check() -> None:
    async with FakeServer(port=0, admin_token="t0k") as fake, ClientSession() as http:
        status, _ = await answer(http, "GET", fake.url + "/_health", headers={"Host": REBOUND})
        assert status == 401  # the token check, unchanged
        status, body = await answer(
            http, "GET", fake.url + "/_health", headers={"Host": REBOUND, "Authorization": "Bearer t0k"}
        )
        assert status == 200 and body["debug_routes"] == "admin token required"


async def test_a_non_loopback_bind_without_a_token_starts_and_says_the_routes_are_open() -> None:
    async with FakeServer(port=0, host="0.0.0.0") as fake, ClientSession() as http:
        url = f"http://127.0.0.1:{fake.port}"
        status, body = await answer(http, "GET", url + "/_health", headers={"Host": "fake.lan"})
        assert status == 200
        assert body["debug_routes"] == "open: no admin token on a non-loopback bind"
        # Cross-site requests are refused on every bind.
        status, body = await answer(http, "POST", url + "/_reset", headers={"Origin": "http://evil.example"})
        assert_forbidden(status, body, "header.Origin")


# ---- cross-site requests: Origin and Sec-Fetch-Site -------------------------------------


STATE_CHANGING = [("POST", "/_reset"), ("DELETE", "/_calls"), ("DELETE", "/_faults"), ("DELETE", "/_faults/1")]


@pytest.mark.parametrize(("method", "path"), STATE_CHANGING)
@pytest.mark.parametrize(
    ("headers", "location"),
    [
        ({"Origin": "http://evil.example"}, "header.Origin"),
        ({"Origin": "null"}, "header.Origin"),
        ({"Origin": "http://127.0.0.1:1"}, "header.Origin"),  # another port is another origin
        ({"Sec-Fetch-Site": "cross-site"}, "header.Sec-Fetch-Site"),
    ],
    ids=["other-site", "null", "other-port", "sec-fetch-site"],
)
async def test_a_cross_site_state_changing_request_is_refused(
    served: tuple[FakeServer, ClientSession], method: str, path: str, headers: dict[str, str], location: str
) -> None:
    fake, http = served
    fake.inject("status", status=503, times=5)
    status, body = await answer(http, method, fake.url + path, headers=headers)
    assert_forbidden(status, body, location)
    assert len(fake.calls) == 1 and len(fake.images) == 1 and len(fake.faults) == 1


async def test_a_cross_site_form_posting_a_fault_is_refused(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    form = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    status, body = await answer(http, "POST", fake.url + "/_faults", data=b'{"kind": "drop"}', headers=form)
    assert_forbidden(status, body, "header.Origin")
    assert len(fake.faults) == 0


async def test_same_origin_and_plain_clients_keep_working(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    own = fake.url.removeprefix("http://")
    for headers in (
        {},  # curl, requests, the Python servers
        {"Origin": f"http://{own}", "Sec-Fetch-Site": "same-origin"},
        {"Origin": f"http://{own.replace('127.0.0.1', 'localhost')}", "Host": own.replace("127.0.0.1", "localhost")},
        {"Sec-Fetch-Site": "none"},  # typed in the address bar
    ):
        status, body = await answer(http, "POST", fake.url + "/_reset", headers=headers)
        assert (status, body["reset"]) == (200, True), headers


async def test_reads_carrying_a_cross_site_origin_are_answered(served: tuple[FakeServer, ClientSession]) -> None:
    # Reading needs no Origin check: without CORS headers the hostile page cannot read the answer.
    fake, http = served
    status, _ = await answer(http, "GET", fake.url + "/_calls", headers={"Origin": "http://evil.example"})
    assert status == 200


async def test_the_calls_page_and_what_it_links_to_work_from_the_page(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    page = fake.url + "/_calls"
    status, html = await answer(http, "GET", page, headers={"Accept": "text/html"})
    assert status == 200 and 'href="/_calls/1"' in html and 'src="/_images/1"' in html
    browser = {"Referer": page, "Sec-Fetch-Site": "same-origin"}
    for link in ("/_calls/1", "/_images/1", "/_calls?outcome=rejected", "/favicon.ico"):
        assert (await answer(http, "GET", fake.url + link, headers=browser))[0] in (200, 204), link
    assert len(fake.calls) == 1


# ---- POST /_faults wants JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_a_fault_body_that_is_not_declared_json_is_415(
    served: tuple[FakeServer, ClientSession], content_type: str | None
) -> None:
    fake, http = served
    headers = {"Content-Type": content_type} if content_type else {}
    async with http.post(
        fake.url + "/_faults", data=b'{"kind": "drop"}', headers=headers, skip_auto_headers=("Content-Type",)
    ) as resp:
        body = await resp.json(content_type=None)
        assert resp.status == 415, body
    assert body["ErrorType"] == "UnsupportedMediaTypeException"
    assert body["Violations"][0]["location"] == "header.Content-Type"
    assert len(fake.faults) == 0 and len(fake.calls) == 1


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "application/x+json"])
async def test_a_fault_body_declared_json_is_added(served: tuple[FakeServer, ClientSession], content_type: str) -> None:
    fake, http = served
    async with http.post(
        fake.url + "/_faults", data=b'{"kind": "drop"}', headers={"Content-Type": content_type}
    ) as resp:
        assert resp.status == 201
    assert len(fake.faults) == 1


# ---- the settings ----------------------------------------------------------------------------


def test_allowed_hosts_from_python_the_environment_and_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().allowed_hosts == ()
    assert Settings(allowed_hosts=["a.test", " b.test "]).allowed_hosts == ("a.test", "b.test")
    assert Settings(allowed_hosts="a.test,b.test:81").allowed_hosts == ("a.test", "b.test:81")
    assert env_overrides({"MOCKSERVER_ALLOWED_HOSTS": "a.test, b.test,"})["allowed_hosts"] == ("a.test", "b.test")
    monkeypatch.setenv("MOCKSERVER_ALLOWED_HOSTS", "env.test")
    assert settings_and_sources(build_parser().parse_args(["serve"]))[0].allowed_hosts == ("env.test",)
    args = build_parser().parse_args(["serve", "--allowed-host", "a.test", "--allowed-host", "b.test"])
    assert settings_and_sources(args)[0].allowed_hosts == ("a.test", "b.test")


def test_max_body_memory_from_python_the_environment_and_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_body_memory == 512 * 1024 * 1024
    assert env_overrides({"MOCKSERVER_MAX_BODY_MEMORY": "64M"})["max_body_memory"] == 64 * 1024 * 1024
    args = build_parser().parse_args(["serve", "--max-body-memory", "1G"])
    assert settings_and_sources(args)[0].max_body_memory == 1024**3
    with pytest.raises(Exception, match="max_body_memory must be at least 1 byte"):
        Settings(max_body_memory=0)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("[::1]:8080", ("::1", "8080")),
        ("Localhost.", ("localhost", None)),
        ("a.test:", ("a.test", None)),
        ("127.0.0.1:80", ("127.0.0.1", "80")),
    ],
)
def test_split_host(host: str, expected: tuple[str, str | None]) -> None:
    assert split_host(host) == expected


def test_loopback_and_origin_rules() -> None:
    assert all(is_loopback(h) for h in ("localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "", "::", "10.0.0.1", "localhost.evil.example", "fake.test"))
    assert host_allowed("fake.test:1", ["fake.test"]) and not host_allowed("fake.test:1", ["fake.test:2"])
    assert same_origin("http://127.0.0.1:8080", "127.0.0.1:8080")
    assert same_origin("http://localhost", "localhost:80") and same_origin("https://a.test", "a.test")
    assert not same_origin("http://127.0.0.1:8081", "127.0.0.1:8080")
    assert not same_origin("null", "127.0.0.1:8080") and not same_origin("http://[bad", "127.0.0.1")
    assert not same_origin("http://a.test", None)
