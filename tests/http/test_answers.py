"""Over real HTTP: answers and Accept negotiation, deterministic ids, the error shape, warnings and --strict."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from lxml import etree

from mockserver import FakeServer
from mockserver.core.body.codecs import ERROR_NS
from mockserver.core.vocabulary.contract import INT32_MAX

from ..support import PNG, SAVE_PATH, SERIALIZATION_NS, b64, core_settings, form_body, headers, save_body, xml_body

JSON_UTF8 = "application/json; charset=utf-8"
XML_33 = f'<int xmlns="{SERIALIZATION_NS}">33</int>'.encode()


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    async with FakeServer(core_settings()) as server:
        yield server


@pytest.fixture
async def strict() -> AsyncIterator[FakeServer]:
    async with FakeServer(core_settings(strict=True)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession(skip_auto_headers=("Accept", "Content-Type")) as session:
        yield session


async def post(
    http: ClientSession, fake: FakeServer, body: bytes, path: str = SAVE_PATH, **hdrs: Any
) -> tuple[int, dict[str, str], bytes]:
    async with http.post(fake.url + path, data=body, headers=headers(**hdrs)) as resp:
        return resp.status, dict(resp.headers), await resp.read()


# ---- the answer and Accept -------------------------------------------------------------------


async def test_json_answer_is_the_bare_id(http: ClientSession) -> None:
    async with FakeServer(core_settings(first_id=33)) as fake:
        status, hdrs, body = await post(http, fake, save_body(), accept="application/json")
    assert (status, hdrs["Content-Type"], body) == (200, JSON_UTF8, b"33")


async def test_xml_answer_is_a_datacontract_int(http: ClientSession) -> None:
    async with FakeServer(core_settings(first_id=33)) as fake:
        status, hdrs, body = await post(http, fake, save_body(), accept="application/xml")
    assert (status, hdrs["Content-Type"], body) == (200, "application/xml; charset=utf-8", XML_33)


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        ("application/json", "application/json"),
        ("text/json", "text/json"),
        ("application/xml", "application/xml"),
        ("text/xml", "text/xml"),
        ("application/json-patch+json", "application/json-patch+json"),
        ("application/merge-patch+json", "application/merge-patch+json"),
        ("application/json; charset=utf-8", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/*", "text/json"),
        ("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", "application/xml"),
        ("application/json;q=0.4, application/xml;q=0.8", "application/xml"),
        ("application/xml, application/json", "application/xml"),
        ("application/json, application/xml", "application/json"),
        ("*/*;q=0.1, text/xml", "text/xml"),
        ("application/json;q=0, */*", "text/json"),
        ("text/*;q=0.3, application/*;q=0.2", "text/json"),
        ("bogus, text/xml", "text/xml"),
    ],
)
async def test_accept_forms(fake: FakeServer, http: ClientSession, accept: str, answered: str) -> None:
    status, hdrs, body = await post(http, fake, save_body(), accept=accept)
    assert status == 200
    assert hdrs["Content-Type"] == f"{answered}; charset=utf-8"
    assert body == (f'<int xmlns="{SERIALIZATION_NS}">1</int>'.encode() if "xml" in answered else b"1")


@pytest.mark.parametrize(
    ("content_type", "body", "answered"),
    [
        ("application/json", save_body(), "application/json"),
        ("text/json; charset=utf-8", save_body(), "text/json"),
        ("application/merge-patch+json", save_body(), "application/merge-patch+json"),
        ("application/xml", xml_body(), "application/xml"),
        ("text/xml; charset=utf-8", xml_body(), "text/xml"),
        ("application/x-www-form-urlencoded", form_body(), "application/json"),
    ],
)
@pytest.mark.parametrize("accept", [None, "", " , ", "*/*"])
async def test_without_a_preference_the_answer_follows_the_request_format(
    fake: FakeServer, http: ClientSession, content_type: str, body: bytes, answered: str, accept: str | None
) -> None:
    status, hdrs, _ = await post(http, fake, body, content_type=content_type, accept=accept)
    assert status == 200
    assert hdrs["Content-Type"] == f"{answered}; charset=utf-8"
    assert fake.calls.last.warnings == ()


async def test_unacceptable_accept_falls_back_to_json_with_a_warning(fake: FakeServer, http: ClientSession) -> None:
    status, hdrs, body = await post(http, fake, save_body(), accept="image/png")
    assert (status, hdrs["Content-Type"], body) == (200, JSON_UTF8, b"1")
    (warning,) = fake.calls.last.warnings
    assert warning.location == "header.Accept"
    assert warning.got == "'image/png'; answered application/json instead"


async def test_unacceptable_accept_is_406_when_strict(strict: FakeServer, http: ClientSession) -> None:
    status, hdrs, body = await post(http, strict, save_body(), accept="image/png, text/html")
    assert status == 406
    assert hdrs["Content-Type"] == JSON_UTF8
    error = json.loads(body)
    assert error["ErrorType"] == "NotAcceptableException"
    assert error["Violations"][0]["location"] == "header.Accept"
    assert strict.next_id == 1


async def test_strict_unknown_path_is_still_404_not_406(strict: FakeServer, http: ClientSession) -> None:
    status, _, _ = await post(http, strict, save_body(), path="/api/v1/Nope", accept="image/png")
    assert status == 404


# ---- deterministic ids -----------------------------------------------------------------------


async def test_ids_count_accepted_saves_only(http: ClientSession) -> None:
    async with FakeServer(core_settings(first_id=100)) as fake:
        answers = []
        for body, hdrs in [
            (save_body(), {}),
            (json.dumps({"Type": 1, "Image": "not base64 at all!"}).encode(), {}),
            (save_body(), {}),
            (save_body(), {"content_type": "text/plain"}),
            (save_body(type_=0), {}),
            (save_body(), {"path": "/api/v1/Agents/BLOB/Nope"}),
            (save_body(), {}),
        ]:
            status, _, answer = await post(http, fake, body, **hdrs)
            answers.append((status, answer if status == 200 else None))
        async with http.get(fake.url + SAVE_PATH) as resp:
            assert resp.status == 200
        status, _, answer = await post(http, fake, save_body())
        answers.append((status, answer))
    assert answers == [
        (200, b"100"),
        (400, None),
        (200, b"101"),
        (415, None),
        (400, None),
        (404, None),
        (200, b"102"),
        (200, b"103"),
    ]
    assert [c.blob_id for c in fake.calls] == [100, None, 101, None, None, None, 102, None, 103]
    assert sorted(fake.images) == [100, 101, 102, 103]


async def test_ids_are_per_instance_and_reset_with_it(http: ClientSession) -> None:
    async with FakeServer(core_settings()) as one, FakeServer(core_settings()) as two:
        assert (await post(http, one, save_body()))[2] == b"1"
        assert (await post(http, one, save_body()))[2] == b"2"
        assert (await post(http, two, save_body()))[2] == b"1"
        one.reset()
        assert (await post(http, one, save_body()))[2] == b"1"
        assert len(one.images) == 1


async def test_id_sequence_stops_at_int32_max_with_a_clear_error(http: ClientSession) -> None:
    async with FakeServer(core_settings(first_id=INT32_MAX)) as fake:
        status, _, body = await post(http, fake, save_body())
        assert (status, body) == (200, str(INT32_MAX).encode())
        for _ in range(2):  # the refusal consumes nothing and stays a refusal
            status, _, body = await post(http, fake, save_body(), accept="application/json")
            assert status == 507
            error = json.loads(body)
            assert error["ErrorType"] == "OverflowException"
            assert "exhausted" in error["Message"] and "--first-id" in error["Message"]
            assert error["Violations"][0]["location"] == "state.next_id"
        assert list(fake.images) == [INT32_MAX]


# ---- the error shape -------------------------------------------------------------------------


ERROR_CASES = [
    # (status, ErrorType, request kwargs)
    (400, "ArgumentException", {"body": json.dumps({"Type": 1}).encode()}),
    (401, "SoCredentialsException", {"body": save_body(), "authorization": None}),
    (404, "SoNotFoundException", {"body": save_body(), "path": "/api/v1/Agents/BLOB/Missing"}),
    (405, "MethodNotAllowedException", {"body": save_body(), "method": "PUT"}),
    (413, "RequestEntityTooLargeException", {"body": save_body(image=PNG * 400)}),
    (415, "UnsupportedMediaTypeException", {"body": save_body(), "content_type": "text/plain"}),
]


async def error_call(http: ClientSession, fake: FakeServer, accept: str, case: dict[str, Any]) -> Any:
    hdrs = headers(accept=accept, content_type=case.get("content_type", "application/json"))
    if "authorization" in case:
        del hdrs["Authorization"]
    url = fake.url + case.get("path", SAVE_PATH)
    async with http.request(case.get("method", "POST"), url, data=case["body"], headers=hdrs) as resp:
        return resp.status, resp.headers["Content-Type"], await resp.read()


@pytest.mark.parametrize(("status", "error_type", "case"), ERROR_CASES, ids=[str(c[0]) for c in ERROR_CASES])
async def test_every_error_status_has_the_json_error_body(
    http: ClientSession, status: int, error_type: str, case: dict[str, Any]
) -> None:
    async with FakeServer(core_settings(max_body_size=4096)) as fake:
        got_status, ctype, body = await error_call(http, fake, "application/json", case)
    assert (got_status, ctype) == (status, JSON_UTF8)
    error = json.loads(body)
    assert set(error) == {"Error", "ErrorType", "Message", "ErrorSource", "Violations"}
    assert error["Error"] is True
    assert error["ErrorType"] == error_type
    assert error["ErrorSource"].startswith("SuperOffice.Services.")
    assert error["Message"]
    assert error["Violations"], "every 4xx names at least one violation"
    for v in error["Violations"]:
        assert set(v) == {"location", "expected", "got", "message"}
        assert v["message"] == f"{v['location']} must be {v['expected']} (got {v['got']})"


@pytest.mark.parametrize(("status", "error_type", "case"), ERROR_CASES, ids=[str(c[0]) for c in ERROR_CASES])
async def test_every_error_status_has_the_xml_error_body_when_xml_is_negotiated(
    http: ClientSession, status: int, error_type: str, case: dict[str, Any]
) -> None:
    async with FakeServer(core_settings(max_body_size=4096)) as fake:
        got_status, ctype, body = await error_call(http, fake, "text/xml", case)
    assert (got_status, ctype) == (status, "text/xml; charset=utf-8")
    root = etree.fromstring(body)
    ns = {"e": ERROR_NS}
    assert etree.QName(root).localname == "WebApiError"
    assert root.findtext("e:Error", namespaces=ns) == "true"
    assert root.findtext("e:ErrorType", namespaces=ns) == error_type
    assert root.findtext("e:Message", namespaces=ns)
    violations = root.findall("e:Violations/e:Violation", namespaces=ns)
    assert violations and all(v.findtext("e:Location", namespaces=ns) for v in violations)


async def test_documentation_sample_gets_the_documented_message(fake: FakeServer, http: ClientSession) -> None:
    sample = {
        "Type": "AccessToken",
        "Image": "GIF89....File contents as raw bytes...",
        "Description": "Customer-focused human-resource product",
    }
    status, _, body = await post(http, fake, json.dumps(sample).encode(), accept="application/json; charset=utf-8")
    assert status == 400
    assert json.loads(body)["Message"] == (
        "body.Image must be base64 (got 'GIF89....Fi…': '.' at offset 5 is not a base64 character)"
    )


async def test_all_violations_are_reported_at_once(fake: FakeServer, http: ClientSession) -> None:
    body = json.dumps({"Type": "Nope", "Image": "@@@@", "Description": {"a": 1}}).encode()
    status, _, answer = await post(http, fake, body)
    assert status == 400
    assert [v["location"] for v in json.loads(answer)["Violations"]] == ["body.Type", "body.Image", "body.Description"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"\x00\xff\xfe"),
        ("application/json", b"[" * 50_000),
        ("application/json", b'{"Image": ' + b"9" * 5000 + b"}"),
        ("application/json", b'{"Type": 99999999999999999999, "Image": ""}'),
        ("text/xml", b"<a>" * 10_000),
        ("text/xml; charset=utf-16", b"\x00<"),
        ("application/xml", b'<?xml version="1.0" encoding="klingon"?><a/>'),
        ("application/x-www-form-urlencoded", b"&".join(b"a=%d" % i for i in range(2000))),
        ("application/x-www-form-urlencoded", b"Image=%zz&Type=%"),
        ("application/json; charset=utf-32", b"{}"),
    ],
)
async def test_hostile_bodies_are_4xx_never_5xx(
    fake: FakeServer, http: ClientSession, content_type: str, body: bytes
) -> None:
    status, _, answer = await post(http, fake, body, content_type=content_type, accept="application/json")
    assert 400 <= status < 500
    assert json.loads(answer)["Violations"]
    assert fake.calls.last.status == status


# ---- warnings and --strict -------------------------------------------------------------------


WARNING_CASES = [
    ("empty image", json.dumps({"Type": 1, "Image": ""}).encode(), {}, "body.Image"),
    ("not an image", save_body(image=b"plain text, not a picture"), {}, "body.Image"),
    ("unknown property", save_body(Colour="red"), {}, "body.Colour"),
    ("missing Type", json.dumps({"Image": b64(PNG)}).encode(), {}, "body.Type"),
    ("bad Accept entry", save_body(), {"accept": "nonsense"}, "header.Accept"),
]


@pytest.mark.parametrize(("name", "body", "hdrs", "location"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
async def test_warnings_are_accepted_and_recorded(
    fake: FakeServer, http: ClientSession, name: str, body: bytes, hdrs: dict[str, str], location: str
) -> None:
    status, _, answer = await post(http, fake, body, **hdrs)
    assert (status, answer) == (200, b"1")
    assert [w.location for w in fake.calls.last.warnings] == [location]


@pytest.mark.parametrize(("name", "body", "hdrs", "location"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
async def test_strict_turns_each_warning_into_a_400(
    strict: FakeServer, http: ClientSession, name: str, body: bytes, hdrs: dict[str, str], location: str
) -> None:
    status, _, answer = await post(http, strict, body, **hdrs)
    assert status == 400
    assert [v["location"] for v in json.loads(answer)["Violations"]] == [location]
    assert strict.next_id == 1
    assert strict.images == {}
