"""The proxy over HTTP: official client flows through it to a fake show no drift, clients see the
upstream's answers unchanged, and each deliberately wrong upstream shows exactly its drift."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer, ProxyServer
from mockserver.core.proxy.shapes import ERROR_SHAPE

from ..proxy_support import SERIALIZATION_NS, start_app, wrong_app
from ..support import BASIC, PNG, SAVE_PATH, form_body, save_body, xml_body

CHANGE_PERSON = "/api/v1/Agents/BLOB/ChangePersonImage"
GET_BLOB = "/api/v1/Agents/BLOB/GetBlobStream"
TICKET = "7T:dGplMA=="
TOKEN = "8A:Cust12345.AXRrCITpPBvQX3UbIohb"
APP = "partner-app-secret"
JSON = "application/json"
THAT_MATTER = ("Content-Type", "WWW-Authenticate", "Allow", "Retry-After")


async def send(
    url: str, path: str, body: bytes | None = None, method: str = "POST", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    async with (
        ClientSession(auto_decompress=False) as http,
        http.request(method, url + path, data=body, headers=sent, allow_redirects=False) as resp,
    ):
        return resp.status, {k: resp.headers[k] for k in resp.headers}, await resp.read()


def drift_of(proxy: ProxyServer) -> list[list[dict[str, str]]]:
    return [list(r.extra["drift"]) for r in proxy.calls]


ONSITE_FLOW: list[tuple[str, dict[str, str], Any, int]] = [
    # path, headers, body (bytes, or a JSON object where "$blob" is the first save's id), status
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC}, save_body(), 200),
    (SAVE_PATH, {"Content-Type": "application/xml", "Authorization": f"Basic {TICKET}", "Accept": "application/xml"},
     xml_body(), 200),
    (SAVE_PATH, {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"SOTicket {TICKET}"},
     form_body(), 200),
    (SAVE_PATH, {"Content-Type": "text/json", "Authorization": f"Bearer {TOKEN}", "Accept": "text/json"},
     save_body(), 200),
    (SAVE_PATH, {"Content-Type": JSON, "X-XSRF-TOKEN": "tok", "Cookie": "XSRF-TOKEN=tok"}, save_body(), 200),
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC, "Accept-Language": "nb"},
     json.dumps({"Image": base64.b64encode(PNG).decode()}).encode(), 200),  # no Type: a warning
    (CHANGE_PERSON, {"Content-Type": JSON, "Authorization": BASIC}, {"PersonId": 1, "BlobId": "$blob"}, 204),
    (GET_BLOB, {"Content-Type": JSON, "Authorization": BASIC, "Accept": "application/octet-stream"},
     {"BlobEntityId": "$blob"}, 200),
    (GET_BLOB, {"Content-Type": JSON, "Authorization": BASIC, "Accept": JSON}, {"BlobEntityId": "$blob"}, 200),
    (GET_BLOB, {"Content-Type": JSON, "Authorization": BASIC, "Accept": "text/xml"}, {"BlobEntityId": "$blob"}, 200),
    (GET_BLOB, {"Content-Type": JSON, "Authorization": BASIC}, {"BlobEntityId": 2147483647}, 404),
    (CHANGE_PERSON, {"Content-Type": JSON, "Authorization": BASIC}, {"PersonId": 1, "BlobId": 2147483647}, 400),
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC}, b'{"Type": "PersonImage"}', 400),
    (SAVE_PATH, {"Content-Type": "application/xml", "Authorization": BASIC, "Accept": "application/xml"},
     b"<request><Type>Nope</Type></request>", 400),
    (SAVE_PATH, {"Content-Type": JSON}, save_body(), 401),
    (SAVE_PATH, {"Content-Type": "text/plain", "Authorization": BASIC}, save_body(), 415),
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": "Basic"}, save_body(), 401),
]  # fmt: skip
ONLINE_FLOW: list[tuple[str, dict[str, str], Any, int]] = [
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": f"SOTicket {TICKET}", "SO-AppToken": APP}, save_body(), 200),
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": f"Bearer {TOKEN}"}, save_body(), 200),
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": f"SOTicket {TICKET}"}, save_body(), 401),
    (SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC}, save_body(), 401),
]


@pytest.mark.parametrize(("installation", "flow"), [("onsite", ONSITE_FLOW), ("online", ONLINE_FLOW)])
async def test_official_client_flows_through_the_proxy_to_a_fake_show_no_drift(
    installation: str, flow: list[tuple[str, dict[str, str], Any, int]]
) -> None:
    async with (
        FakeServer(port=0, installation=installation) as fake,
        ProxyServer(fake.url + "/Cust12345", port=0, installation=installation) as proxy,
    ):
        blob = None
        for path, headers, body, status in flow:
            if isinstance(body, dict):
                body = json.dumps({k: blob if v == "$blob" else v for k, v in body.items()}).encode()
            got, _headers, answer = await send(proxy.url + "/Cust12345", path, body, **headers)
            assert got == status, (path, headers, answer)
            if path == SAVE_PATH and got == 200 and blob is None:
                blob = json.loads(answer)
        summary = proxy.drift.summary()
    assert summary["drift"] == 0, summary
    assert summary["exchanges"] == len(flow)
    assert drift_of(proxy) == [[]] * len(flow)
    # The proxy's request checks are the fake's: the same violations and warnings, call by call,
    # except where the tenant's data decides (an unknown blob): there only the status says so.
    assert [r.status for r in proxy.calls] == [r.status for r in fake.calls] == [s for *_, s in flow]
    by_data = [i for i, (path, _h, _b, status) in enumerate(flow) if path != SAVE_PATH and status >= 400]
    assert [r.violations for i, r in enumerate(proxy.calls) if i in by_data] == [()] * len(by_data)
    assert [r.violations for i, r in enumerate(proxy.calls) if i not in by_data] == [
        r.violations for i, r in enumerate(fake.calls) if i not in by_data
    ]
    assert [r.warnings for r in proxy.calls] == [r.warnings for r in fake.calls]
    assert any(r.warnings for r in proxy.calls) or installation == "online"
    assert [r.blob_id for r in proxy.calls if r.operation == "SaveImageStream"] == [
        r.blob_id for r in fake.calls if r.operation == "SaveImageStream"
    ]


SAME: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("POST", SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC}, save_body()),
    ("POST", SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC, "Accept": "application/xml"}, save_body()),
    ("POST", SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC}, b'{"Type": 0}'),
    ("POST", SAVE_PATH, {"Content-Type": JSON}, save_body()),
    ("PUT", SAVE_PATH, {"Content-Type": JSON, "Authorization": BASIC}, save_body()),
    ("POST", SAVE_PATH, {"Content-Type": "image/png", "Authorization": BASIC}, PNG),
    ("POST", SAVE_PATH, {"Content-Type": "application/xml", "Authorization": BASIC}, b"<broken"),
    ("GET", SAVE_PATH, {"Authorization": BASIC}, None),
    ("POST", "/api/v1/Agents/BLOB/Nothing", {"Content-Type": JSON, "Authorization": BASIC}, b"{}"),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), SAME)
@pytest.mark.parametrize("fault", [None, {"kind": "status", "status": 503, "retry_after": 7}])
async def test_the_client_sees_exactly_what_the_upstream_sent(
    method: str, path: str, headers: dict[str, str], body: bytes | None, fault: dict[str, Any] | None
) -> None:
    async with FakeServer(port=0) as fake, ProxyServer(fake.url, port=0) as proxy:
        answers = []
        for base in (fake.url, proxy.url):
            fake.reset()  # the same ids for both
            if fault:
                fake.inject(fault)
            answers.append(await send(base, path, body, method, **headers))
    (direct_status, direct_headers, direct_body), (status, got_headers, got_body) = answers
    assert status == direct_status
    assert got_body == direct_body
    for name in THAT_MATTER:
        assert got_headers.get(name) == direct_headers.get(name), name
    assert proxy.calls.last.status == status


@pytest.fixture
async def wrong() -> AsyncIterator[str]:
    runner, url = await start_app(wrong_app())
    yield url
    await runner.cleanup()


VALID = {"Content-Type": JSON, "Authorization": BASIC}
WRONG_CASES = [
    # tenant, request headers, body, status the client gets, the drift expected: (kind, location, expected, got)
    ("redirect", VALID, save_body(), 302,
     [("status", "status", "200, or an error status of 400, 401, 405, 406, 413, 415, 507", "302")]),
    ("string_id", VALID, save_body(), 200, [("result", "body", "an int32 such as 33", "string '33'")]),
    ("other_error", VALID, b'{"Type": "PersonImage"}', 400,
     [("error_body", "body", ERROR_SHAPE, "an object with Error missing, ErrorType missing, Message missing, "
       "ErrorSource missing")]),
    ("no_challenge", VALID, save_body(), 401,
     [("header", "header.WWW-Authenticate", "a challenge on 401, e.g. Basic realm=…", "none")]),
    ("wrong_namespace", {**VALID, "Accept": "application/xml"}, save_body(), 200,
     [("xml_namespace", "body", f'<int xmlns="{SERIALIZATION_NS}">', '<int xmlns="http://example.com/ids">')]),
    ("html_error", VALID, save_body(), 500,
     [("status", "status", "200, or an error status of 400, 401, 405, 406, 413, 415, 507", "500"),
      ("media_type", "header.Content-Type", "one of application/json, text/json, application/xml, text/xml, "
       "application/json-patch+json, application/merge-patch+json", "text/html"),
      ("error_body", "body", "a SuperOffice error object", "a text/html body '<html><body>Server Error</body…'")]),
    ("accepts_anything", VALID, b'{"Type": "PersonImage"}', 200,
     [("verdict", "status", "400 as the contract refuses this request: body.Image must be base64 (required) "
       "(got nothing)", "200, the request accepted")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("tenant", "headers", "body", "status", "expected"), WRONG_CASES, ids=[c[0] for c in WRONG_CASES]
)
async def test_each_wrong_upstream_shows_exactly_its_drift(
    wrong: str, tenant: str, headers: dict[str, str], body: bytes, status: int, expected: list[tuple[str, ...]]
) -> None:
    async with ProxyServer(f"{wrong}/{tenant}", port=0) as proxy:
        got, _headers, _body = await send(proxy.url, SAVE_PATH, body, **headers)
        _s, _h, summary = await send(proxy.url, "/_drift", method="GET")
    assert got == status
    record = proxy.calls.last
    assert [(d["kind"], d["location"], d["expected"], d["got"]) for d in record.extra["drift"]] == expected
    assert record.extra["upstream"]["status"] == status
    kinds = json.loads(summary)["kinds"]
    assert {k: v["count"] for k, v in kinds.items()} == {kind: 1 for kind, *_ in expected}
    assert proxy.drift.total == len(expected)


async def test_drift_route_counts_each_kind_and_keeps_its_first_example(wrong: str) -> None:
    async with ProxyServer(f"{wrong}/string_id", port=0) as proxy:
        for _ in range(3):
            await send(proxy.url, SAVE_PATH, save_body(), **VALID)
        await send(proxy.url, SAVE_PATH, save_body(), **{**VALID, "Accept": "text/plain"})
        status, headers, body = await send(proxy.url, "/_drift", method="GET")
    assert status == 200 and headers["Content-Type"].startswith(JSON)
    summary = json.loads(body)
    assert summary["upstream"] == f"{wrong}/string_id"
    assert (summary["drift"], summary["exchanges"], summary["exchanges_with_drift"]) == (4, 4, 4)
    result = summary["kinds"]["result"]
    assert result["count"] == 4
    assert result["meaning"].startswith("a success body not of the contract's result shape")
    assert result["example"] == {
        "seq": 1,
        "method": "POST",
        "path": SAVE_PATH,
        "kind": "result",
        "location": "body",
        "expected": "an int32 such as 33",
        "got": "string '33'",
        "message": "body: expected an int32 such as 33, got string '33'",
    }


async def test_the_journal_routes_show_the_upstreams_status_and_the_drift(wrong: str) -> None:
    async with ProxyServer(f"{wrong}/redirect", port=0) as proxy:
        await send(proxy.url, SAVE_PATH, save_body(), **VALID)
        _s, _h, calls = await send(proxy.url, "/_calls", method="GET")
        _s, _h, one = await send(proxy.url, "/_calls/1", method="GET")
        _s, page_headers, page = await send(proxy.url, "/_calls", method="GET", Accept="text/html")
        _s, drift_headers, drift_page = await send(proxy.url, "/_drift", method="GET", Accept="text/html")
    record = json.loads(one)
    assert json.loads(calls)["calls"] == [record]
    assert record["status"] == 302 and record["outcome"] == "rejected" and record["violations"] == []
    upstream = record["extra"]["upstream"]
    assert upstream["forwarded"] is True and upstream["fake_status"] == 200
    assert upstream["url"] == f"{wrong}/redirect{SAVE_PATH}"
    assert upstream["headers"] == {"Location": "https://login.example.com/?return=/api"}
    assert upstream["elapsed_ms"] >= 0
    assert [d["kind"] for d in record["extra"]["drift"]] == ["status"]
    assert page_headers["Content-Type"].startswith("text/html") and b'data-status="302"' in page
    assert drift_headers["Content-Type"].startswith("text/html")
    assert b'data-kind="status"' in drift_page and b'href="/_calls/1"' in drift_page


async def test_the_proxy_serves_no_fault_or_image_routes_and_reset_forgets_the_drift(wrong: str) -> None:
    async with ProxyServer(f"{wrong}/string_id", port=0) as proxy:
        await send(proxy.url, SAVE_PATH, save_body(), **VALID)
        faults = await send(proxy.url, "/_faults", b"{}", **VALID)
        image = await send(proxy.url, "/_images/1", method="GET")
        reset = await send(proxy.url, "/_reset")
        _s, _h, summary = await send(proxy.url, "/_drift", method="GET")
    assert faults[0] == image[0] == 404
    listed = json.loads(faults[2])["Violations"][0]["expected"]
    assert "GET /_drift" in listed and "/_faults" not in listed and "/_images" not in listed
    assert reset[0] == 200
    assert json.loads(summary)["drift"] == 0 and len(proxy.calls) == 0
    with pytest.raises(Exception, match="inject faults into a fake"):
        proxy.inject("status", status=503)


async def test_the_admin_token_guards_drift_too(wrong: str) -> None:
    async with ProxyServer(f"{wrong}/string_id", port=0, admin_token="s3cret-admin") as proxy:
        refused = await send(proxy.url, "/_drift", method="GET")
        allowed = await send(proxy.url, "/_drift", method="GET", Authorization="Bearer s3cret-admin")
    assert (refused[0], allowed[0]) == (401, 200)
