"""The /_ routes: the journal as JSON, filters, images, reset, health, redaction and the admin token."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession

import mockserver
from mockserver import FakeServer

from ..support import GIF, PNG, json_headers, save_body

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><script>alert(1)</script></svg>'


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeServer, ClientSession]]:
    async with FakeServer(port=0, first_id=33) as fake, ClientSession() as http:
        yield fake, http


async def save(fake: FakeServer, http: ClientSession, body: bytes | None = None, **headers: str) -> int:
    data = body if body is not None else save_body()
    async with http.post(fake.api_url, data=data, headers={**json_headers(), **headers}) as resp:
        await resp.read()
        return resp.status


async def get_json(http: ClientSession, url: str, status: int = 200, **kwargs: Any) -> Any:
    async with http.get(url, **kwargs) as resp:
        assert resp.status == status, await resp.text()
        assert resp.content_type == "application/json"
        return await resp.json()


def assert_error_shape(body: dict[str, Any], location: str) -> None:
    assert body["Error"] is True
    assert {"ErrorType", "Message", "ErrorSource", "Violations"} <= set(body)
    assert body["Violations"][0]["location"] == location


async def test_calls_lists_every_record_with_the_documented_fields(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    await save(fake, http, save_body(type_="Nope"))
    body = await get_json(http, fake.url + "/_calls")
    assert body["dropped"] == 0
    first, second = body["calls"]
    assert {"seq", "time", "method", "path", "status", "blob_id", "request", "auth", "violations", "warnings"} <= set(
        first
    )
    assert (first["seq"], first["status"], first["blob_id"], first["method"]) == (1, 200, 33, "POST")
    assert first["request"]["Type"] == "PersonImage"
    assert first["request"]["Description"] == "a picture"
    assert first["request"]["image"]["size"] == len(PNG) and first["request"]["image"]["format"] == "png"
    assert first["auth"] == {**first["auth"], "scheme": "Basic", "principal": "tje0"}
    assert first["time"].endswith("Z")
    assert (second["status"], second["blob_id"]) == (400, None)
    assert second["violations"][0]["location"] == "body.Type"
    assert set(second["violations"][0]) >= {"location", "expected", "got"}


async def test_debug_routes_are_not_journaled(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    for path in ("/_calls", "/_calls/1", "/_images/33", "/_health", "/_nowhere"):
        async with http.get(fake.url + path) as resp:
            await resp.read()
    assert [c.seq for c in fake.calls] == [1]


async def test_since_limit_and_outcome_filters(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    for body in (save_body(), save_body(type_="Nope"), save_body(), save_body(), save_body(type_="Nope")):
        await save(fake, http, body)

    async def seqs(query: str) -> list[int]:
        return [c["seq"] for c in (await get_json(http, fake.url + "/_calls" + query))["calls"]]

    assert await seqs("?since=2") == [3, 4, 5]
    assert await seqs("?since=5") == []
    assert await seqs("?limit=2") == [4, 5]  # without since: the newest
    assert await seqs("?since=1&limit=2") == [2, 3]  # after since: paging forward
    assert await seqs("?outcome=rejected") == [2, 5]
    assert await seqs("?outcome=accepted&limit=1") == [4]


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("since=-1", "query.since"),
        ("since=two", "query.since"),
        ("limit=0", "query.limit"),
        ("limit=", "query.limit"),
        ("outcome=ok", "query.outcome"),
        ("outcom=accepted", "query.outcom"),
    ],
)
async def test_bad_filters_are_a_400_in_the_error_shape(
    served: tuple[FakeServer, ClientSession], query: str, location: str
) -> None:
    fake, http = served
    assert_error_shape(await get_json(http, f"{fake.url}/_calls?{query}", 400), location)


async def test_one_call_by_seq(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    assert (await get_json(http, fake.url + "/_calls/1"))["blob_id"] == 33
    assert_error_shape(await get_json(http, fake.url + "/_calls/2", 404), "path.seq")
    assert_error_shape(await get_json(http, fake.url + "/_calls/abc", 400), "path.seq")


async def test_delete_clears_the_journal_but_not_ids_or_images(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    await save(fake, http)
    async with http.delete(fake.url + "/_calls") as resp:
        assert resp.status == 200
        assert await resp.json() == {"cleared": 2}
    assert (await get_json(http, fake.url + "/_calls")) == {"calls": [], "dropped": 0}
    await save(fake, http)
    body = await get_json(http, fake.url + "/_calls")
    assert [(c["seq"], c["blob_id"]) for c in body["calls"]] == [(3, 35)]
    assert sorted(fake.images) == [33, 34, 35]


async def test_dropped_counts_what_the_bound_removed() -> None:
    async with FakeServer(port=0, journal_limit=2) as fake, ClientSession() as http:
        for _ in range(5):
            await save(fake, http)
        body = await get_json(http, fake.url + "/_calls")
    assert body["dropped"] == 3
    assert [c["seq"] for c in body["calls"]] == [4, 5]


@pytest.mark.parametrize(("image", "ctype"), [(PNG, "image/png"), (GIF, "image/gif"), (SVG, "image/svg+xml")])
async def test_images_are_served_with_their_sniffed_type(
    served: tuple[FakeServer, ClientSession], image: bytes, ctype: str
) -> None:
    fake, http = served
    assert await save(fake, http, save_body(image=image)) == 200
    async with http.get(fake.url + "/_images/33") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == ctype
        assert await resp.read() == image
        # Whatever a client stored must not run as a page on this origin.
        assert "sandbox" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_bytes_are_octet_stream_and_unknown_ids_404(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    assert await save(fake, http, save_body(image=b"not an image")) == 200
    async with http.get(fake.url + "/_images/33") as resp:
        assert resp.headers["Content-Type"] == "application/octet-stream"
    assert_error_shape(await get_json(http, fake.url + "/_images/34", 404), "path.blob_id")
    assert_error_shape(await get_json(http, fake.url + "/_images/x", 400), "path.blob_id")


async def test_reset_restarts_ids_and_clears_journal_and_images(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    await save(fake, http)
    async with http.post(fake.url + "/_reset") as resp:
        assert resp.status == 200
        assert await resp.json() == {"reset": True, "next_id": 33}
    assert len(fake.calls) == 0 and len(fake.images) == 0
    await save(fake, http)
    assert fake.calls.last.blob_id == 33 and fake.calls.last.seq == 1


async def test_health(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    health = await get_json(http, fake.url + "/_health")
    assert {k: health[k] for k in ("status", "next_id", "calls", "images", "faults")} == {
        "status": "ok",
        "next_id": 33,
        "calls": 0,
        "images": 0,
        "faults": 0,
    }
    assert health["version"] == mockserver.__version__
    assert health["uptime_s"] >= 0
    assert health["tenants"] == {"mode": "shared", "count": 0, "names": []}
    assert health["debug_routes"] == "loopback only: no admin token; Host must name this machine or an allowed host"
    assert health["settings"]["first_id"] == 33 and health["settings"]["admin_token"] == "unset"
    await save(fake, http)
    fake.inject("delay", delay_ms=1)
    after = await get_json(http, fake.url + "/_health")
    assert (after["calls"], after["images"], after["faults"]) == (1, 1, 1)


async def test_health_never_shows_a_secret() -> None:
    settings = {"port": 0, "admin_token": "s3cret-admin", "credentials": {"users": {"u": "p4ss"}}}
    async with FakeServer(**settings) as fake, ClientSession(headers={"Authorization": "Bearer s3cret-admin"}) as http:
        text = await (await http.get(fake.url + "/_health")).text()
    assert "s3cret-admin" not in text and "p4ss" not in text
    assert '"admin_token":"set"' in text and '"credentials":"set"' in text


async def test_wrong_method_and_unknown_route_get_the_error_shape(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    async with http.put(fake.url + "/_calls") as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "DELETE, GET"
        assert_error_shape(await resp.json(), "method")
    async with http.get(fake.url + "/_reset") as resp:
        assert resp.status == 405
    assert_error_shape(await get_json(http, fake.url + "/_nowhere", 404), "path")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# Each secret kind the fake accepts, and the secret that must never be served back.
SECRETS = {
    "basic password": ({"Authorization": _basic("tje0", "Sw0rdfish-pw")}, "Sw0rdfish-pw"),
    "ticket": ({"Authorization": "SOTicket 7T:dGlja2V0LXNlY3JldA=="}, "7T:dGlja2V0LXNlY3JldA=="),
    "ticket in basic": ({"Authorization": "Basic 7T:YmFzaWMtdGlja2V0"}, "7T:YmFzaWMtdGlja2V0"),
    "bearer token": ({"Authorization": "Bearer 8A:Cust12345.bearer-secret"}, "8A:Cust12345.bearer-secret"),
    "app token": (
        {"Authorization": "SOTicket 7T:c2Vjb25k", "SO-AppToken": "app-token-secret-123"},
        "app-token-secret-123",
    ),
    "xsrf header and cookie": (
        {"Authorization": "", "X-XSRF-TOKEN": "xsrf-secret-456", "Cookie": "XSRF-TOKEN=xsrf-secret-456; theme=dark"},
        "xsrf-secret-456",
    ),
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
async def test_secrets_never_appear_in_anything_served(served: tuple[FakeServer, ClientSession], kind: str) -> None:
    fake, http = served
    headers, secret = SECRETS[kind]
    sent = {k: v for k, v in headers.items() if v}
    async with http.post(fake.api_url, data=save_body(), headers={"Content-Type": "application/json", **sent}) as resp:
        await resp.read()
    record = fake.calls.last
    served_texts = []
    for path, accept in (("/_calls", "application/json"), ("/_calls/1", "application/json"), ("/_calls", "text/html")):
        async with http.get(fake.url + path, headers={"Accept": accept}) as resp:
            assert resp.status == 200
            served_texts.append(await resp.text())
    assert record.auth.scheme is not None  # the call did carry credentials of this kind
    credential = sent.get("Authorization", "").partition(" ")[2]
    for text in served_texts:
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text
        assert not credential or credential not in text  # e.g. base64(user:password) as sent
    assert secret not in json.dumps(record.to_json())
    # The scheme and principal stay visible.
    assert record.auth.scheme in served_texts[0]


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[FakeServer, ClientSession]]:
    async with FakeServer(port=0, admin_token="adm1n-t0ken") as fake, ClientSession() as http:
        yield fake, http


ADMIN_ROUTES = [
    ("GET", "/_calls"),
    ("GET", "/_calls/1"),
    ("DELETE", "/_calls"),
    ("GET", "/_images/1"),
    ("POST", "/_reset"),
    ("GET", "/_health"),
    ("GET", "/_nowhere"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_token_guards_every_debug_route(
    guarded: tuple[FakeServer, ClientSession], method: str, path: str
) -> None:
    fake, http = guarded
    for headers, query in (({}, ""), ({"Authorization": "Bearer wrong"}, ""), ({}, "?token=wrong")):
        async with http.request(method, fake.url + path + query, headers=headers) as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert_error_shape(await resp.json(), "header.Authorization")
            assert "adm1n-t0ken" not in await resp.text()


async def _status(resp: ClientResponse) -> int:
    await resp.read()
    return resp.status


async def test_admin_token_in_header_or_query_opens_the_routes(guarded: tuple[FakeServer, ClientSession]) -> None:
    fake, http = guarded
    async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
        assert resp.status == 200  # agent routes never need the admin token
    async with http.get(fake.url + "/_calls", headers={"Authorization": "Bearer adm1n-t0ken"}) as resp:
        assert await _status(resp) == 200
    async with http.get(fake.url + "/_images/1?token=adm1n-t0ken") as resp:
        assert await _status(resp) == 200
    async with http.get(fake.url + "/_calls?token=adm1n-t0ken&since=0") as resp:
        assert len((await resp.json())["calls"]) == 1


def test_admin_token_comes_from_the_environment_or_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.tools.cli import build_parser, settings_and_sources

    monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", "from-env")
    assert settings_and_sources(build_parser().parse_args(["serve"]))[0].admin_token == "from-env"
    args = build_parser().parse_args(["serve", "--admin-token", "from-flag"])
    assert settings_and_sources(args)[0].admin_token == "from-flag"


async def test_head_on_calls_answers_without_a_body(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    async with http.head(fake.url + "/_calls") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.read() == b""
