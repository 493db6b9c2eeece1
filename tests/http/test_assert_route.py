"""POST /_assert and /_calls?wait=: the Python assertions over HTTP, same text, bounded waits."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer
from mockserver.http import waiting

from ..support import GIF, PNG, SAVE_PATH, b64, json_headers, save_body


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeServer, ClientSession]]:
    async with FakeServer(port=0, first_id=33) as fake, ClientSession() as http:
        yield fake, http


async def save(fake: FakeServer, http: ClientSession, body: bytes | None = None, prefix: str = "") -> int:
    url = fake.url + prefix + SAVE_PATH
    async with http.post(url, data=body if body is not None else save_body(), headers=json_headers()) as resp:
        await resp.read()
        return resp.status


async def ask(http: ClientSession, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(url + "/_assert", json=body) as resp:
        return resp.status, await resp.json()


def python_message(call: Any) -> str:
    with pytest.raises(AssertionError) as caught:
        call()
    return str(caught.value)


async def test_a_matching_save_answers_200_with_its_record(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http, save_body(description="me"))
    status, body = await ask(http, fake.url, {"assert_saved": {"type": "personimage", "description": "me"}})
    assert status == 200, body
    assert body["passed"] is True and body["assertion"] == "assert_saved"
    assert [c["blob_id"] for c in body["calls"]] == [33]


async def test_a_near_miss_has_the_python_message_and_the_differing_field(
    served: tuple[FakeServer, ClientSession],
) -> None:
    fake, http = served
    await save(fake, http, save_body(description="you"))
    await save(fake, http, save_body(type_="Nope"))
    status, body = await ask(http, fake.url, {"assert_saved": {"type": "PersonImage", "description": "me"}})
    assert status == 409
    assert body["passed"] is False and body["timed_out"] is False
    assert body["message"] == python_message(lambda: fake.assert_saved("PersonImage", "me"))
    closest = body["near_misses"][0]
    assert closest["seq"] == 1
    assert closest["differences"] == [{"field": "Description", "expected": "'me'", "got": "'you'"}]
    assert len(body["near_misses"]) == 2


async def test_the_image_is_matched_from_base64_or_from_its_sha256(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http, save_body(image=GIF))
    assert (await ask(http, fake.url, {"assert_saved": {"image": b64(GIF)}}))[0] == 200
    digest = hashlib.sha256(GIF).hexdigest()
    assert (await ask(http, fake.url, {"assert_saved": {"image_sha256": digest.upper()}}))[0] == 200
    status, body = await ask(http, fake.url, {"assert_saved": {"image": b64(PNG)}})
    assert status == 409
    assert body["message"] == python_message(lambda: fake.assert_saved(image=PNG))
    status, body = await ask(http, fake.url, {"assert_saved": {"image_sha256": hashlib.sha256(PNG).hexdigest()}})
    assert status == 409
    assert body["message"] == python_message(lambda: fake.assert_saved(image_sha256=hashlib.sha256(PNG).hexdigest()))


async def test_count_and_blob_id_are_checked_as_in_python(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    await save(fake, http)
    assert (await ask(http, fake.url, {"assert_saved": {"count": 2, "blob_id": None}}))[0] == 200
    status, body = await ask(http, fake.url, {"assert_saved": {"count": 3}})
    assert status == 409 and body["message"] == python_message(lambda: fake.assert_saved(count=3))
    status, body = await ask(http, fake.url, {"assert_saved": {"blob_id": 99}})
    assert status == 409 and body["message"] == python_message(lambda: fake.assert_saved(blob_id=99))


async def test_no_violations_and_no_warnings_over_http(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    assert (await ask(http, fake.url, {"assert_no_violations": {}}))[0] == 200
    await save(fake, http, save_body(type_="Nope"))
    status, body = await ask(http, fake.url, {"assert_no_violations": None})
    assert status == 409
    assert body["message"] == python_message(fake.assert_no_violations)
    assert body["near_misses"][0]["seq"] == 2 and body["near_misses"][0]["differences"][0]["field"] == "body.Type"
    assert (await ask(http, fake.url, {"assert_no_warnings": {}}))[0] == 200


async def test_wait_for_calls_over_http_has_the_python_text(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)
    assert (await ask(http, fake.url, {"wait_for_calls": {"n": 1, "outcome": "accepted"}}))[0] == 200
    status, body = await ask(http, fake.url, {"wait_for_calls": {"n": 2, "outcome": "accepted"}, "wait": 0.2})
    assert status == 409 and body["timed_out"] is True
    expected = python_message(lambda: fake.check_calls(2, 0.2, outcome="accepted"))
    assert body["message"] == expected
    assert "within 0.2 s, but 1 arrived" in expected


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"assert_sved": {}}, "body.assert_sved"),
        ({"assert_saved": {"typ": "PersonImage"}}, "body.assert_saved.typ"),
        ({"assert_saved": {"type": 3}}, "body.assert_saved.type"),
        ({"assert_saved": {"count": -1}}, "body.assert_saved.count"),
        ({"assert_saved": {"count": True}}, "body.assert_saved.count"),
        ({"assert_saved": {"image": "not base64!"}}, "body.assert_saved.image"),
        ({"assert_saved": {"image_sha256": "abc"}}, "body.assert_saved.image_sha256"),
        ({"assert_saved": {"image": b64(PNG), "image_sha256": "a" * 64}}, "body.assert_saved.image_sha256"),
        ({"assert_saved": []}, "body.assert_saved"),
        ({"assert_no_violations": {"x": 1}}, "body.assert_no_violations.x"),
        ({"wait_for_calls": {"outcome": "maybe"}}, "body.wait_for_calls.outcome"),
        ({"assert_saved": {}, "wait": 31}, "body.wait"),
        ({"assert_saved": {}, "wait": "soon"}, "body.wait"),
        ({"assert_saved": {}, "assert_no_warnings": {}}, "body"),
        ({}, "body"),
        ([1, 2], "body"),
        ("text", "body"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    served: tuple[FakeServer, ClientSession], body: Any, location: str
) -> None:
    fake, http = served
    status, answer = await ask(http, fake.url, body)
    assert status == 400, answer
    assert answer["Error"] is True and answer["Violations"][0]["location"] == location
    violation = answer["Violations"][0]
    assert violation["expected"] and violation["got"]


async def test_a_malformed_body_is_a_400_not_a_500(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    for raw in (b"", b"{not json", b"\xff\xfe"):
        async with http.post(fake.url + "/_assert", data=raw) as resp:
            assert resp.status == 400
            answer = await resp.json()
        assert answer["Violations"][0]["location"] == "body"
    async with http.get(fake.url + "/_assert") as resp:
        assert resp.status == 405


async def test_wait_succeeds_as_soon_as_a_matching_call_arrives(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    asking = asyncio.create_task(ask(http, fake.url, {"assert_saved": {"description": "late"}, "wait": 20}))
    await asyncio.sleep(0.1)
    await save(fake, http, save_body(description="early"))
    assert not asking.done()
    await save(fake, http, save_body(description="late"))
    status, body = await asking
    assert status == 200 and body["calls"][0]["request"]["Description"] == "late"


async def test_a_wait_past_its_time_answers_what_it_has_and_says_it_timed_out(
    served: tuple[FakeServer, ClientSession],
) -> None:
    fake, http = served
    await save(fake, http, save_body(description="you"))
    status, body = await ask(http, fake.url, {"assert_saved": {"description": "me"}, "wait": 0.3})
    assert status == 409 and body["timed_out"] is True and body["wait"] == 0.3
    assert body["message"] == python_message(lambda: fake.assert_saved(description="me"))
    assert body["near_misses"][0]["seq"] == 1


async def test_calls_wait_holds_until_a_call_after_since(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    await save(fake, http)

    async def listing(query: str) -> dict[str, Any]:
        async with http.get(fake.url + "/_calls?" + query) as resp:
            assert resp.status == 200
            result: dict[str, Any] = await resp.json()
            return result

    waiting_for = asyncio.create_task(listing("since=1&wait=20"))
    await asyncio.sleep(0.1)
    assert not waiting_for.done()
    await save(fake, http)
    body = await waiting_for
    assert [c["seq"] for c in body["calls"]] == [2] and body["timed_out"] is False
    body = await listing("since=2&wait=0.2")
    assert body["calls"] == [] and body["timed_out"] is True
    assert "timed_out" not in await listing("since=0")


async def test_calls_wait_is_checked(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    for wait in ("-1", "31", "x", "nan"):
        async with http.get(fake.url + "/_calls", params={"since": "0", "wait": wait}) as resp:
            assert resp.status == 400
            assert (await resp.json())["Violations"][0]["location"] == "query.wait"


async def test_waiters_are_bounded_and_one_too_many_is_a_429(
    served: tuple[FakeServer, ClientSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, http = served
    monkeypatch.setattr(waiting, "MAX_WAITERS", 2)
    held = [asyncio.create_task(ask(http, fake.url, {"assert_saved": {}, "wait": 20})) for _ in range(2)]
    await asyncio.sleep(0.2)
    async with http.get(fake.url + "/_calls", params={"since": "0", "wait": "20"}) as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "1"
        assert (await resp.json())["Violations"][0]["location"] == "query.wait"
    status, body = await ask(http, fake.url, {"assert_saved": {}, "wait": 20})
    assert status == 429 and body["Violations"][0]["location"] == "body.wait"
    assert (await ask(http, fake.url, {"assert_saved": {}}))[0] == 409  # no wait: answered as ever
    await save(fake, http)
    assert [(await task)[0] for task in held] == [200, 200]
    assert (await ask(http, fake.url, {"assert_saved": {}, "wait": 1}))[0] == 200


async def test_closing_the_server_answers_held_waits_at_once() -> None:
    async with ClientSession() as http:
        fake = await FakeServer(port=0).start()
        asking = asyncio.create_task(ask(http, fake.url, {"assert_saved": {}, "wait": 30}))
        await asyncio.sleep(0.2)
        await fake.close()
        status, body = await asking
    assert status == 409 and body["timed_out"] is True


async def test_each_isolated_tenant_asserts_on_its_own_calls() -> None:
    async with FakeServer(port=0, tenants="isolated") as fake, ClientSession() as http:
        await save(fake, http, save_body(description="one"), prefix="/Cust1")
        assert (await ask(http, fake.url + "/Cust1", {"assert_saved": {"description": "one"}}))[0] == 200
        status, body = await ask(http, fake.url + "/Cust2", {"assert_saved": {"description": "one"}})
        assert status == 409
        assert body["message"] == python_message(lambda: fake.tenant("Cust2").assert_saved(description="one"))
        assert "No calls were recorded." in body["message"]


async def test_wait_for_in_python_returns_once_the_save_arrives(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    later = asyncio.create_task(asyncio.sleep(0.1))
    later.add_done_callback(lambda _t: asyncio.ensure_future(save(fake, http, save_body(description="async"))))
    record = await fake.wait_for(description="async", timeout=10)
    assert record.description == "async"
    with pytest.raises(AssertionError) as caught:
        await fake.wait_for(description="never", timeout=0.1)
    assert str(caught.value) == python_message(lambda: fake.assert_saved(description="never"))


async def test_a_body_past_the_size_limit_is_a_413_in_the_error_shape() -> None:
    async with FakeServer(port=0, max_body_size=1024) as fake, ClientSession() as http:
        status, body = await ask(http, fake.url, {"assert_saved": {"image": b64(b"x" * 4096)}})
    assert status == 413
    assert body["Violations"][0]["location"] == "body" and "max_body_size" in body["Violations"][0]["expected"]
