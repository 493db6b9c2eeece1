"""The image flow over real HTTP: save, attach to a person or project, read back."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer

from ..support import BASIC, GIF, PNG, SAVE_PATH, json_headers, save_body

AGENT = "/api/v1/Agents/BLOB/"


async def post(http: ClientSession, fake: FakeServer, call: str, body: Any, **headers: str) -> tuple[int, str, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(fake.url + AGENT + call, data=data, headers=json_headers(**headers)) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


@pytest.fixture
async def served() -> Any:
    async with FakeServer(port=0, first_id=33) as fake, ClientSession() as http:
        yield fake, http


@pytest.mark.parametrize(
    ("call", "key", "attr"),
    [("ChangePersonImage", "PersonId", "person_images"), ("ChangeProjectImage", "ProjectId", "project_images")],
)
async def test_save_then_attach_answers_204_and_records_the_link(served: Any, call: str, key: str, attr: str) -> None:
    fake, http = served
    status, _, body = await post(http, fake, "SaveImageStream", save_body())
    assert (status, body) == (200, b"33")
    status, ctype, body = await post(http, fake, call, {key: 7, "BlobId": 33})
    assert (status, ctype, body) == (204, "", b"")
    assert getattr(fake, attr) == {7: 33}
    last = fake.calls.last
    assert (last.operation, last.status, last.blob_id, dict(last.request)) == (call, 204, 33, {key: 7, "BlobId": 33})
    async with http.get(fake.url + "/_calls") as resp:
        record = (await resp.json())["calls"][-1]
    assert record["operation"] == call and record["request"] == {key: 7, "BlobId": 33} and record["status"] == 204


async def test_unknown_blob_id_is_a_400_naming_the_property(served: Any) -> None:
    fake, http = served
    await post(http, fake, "SaveImageStream", save_body())
    status, ctype, body = await post(http, fake, "ChangePersonImage", {"PersonId": 7, "BlobId": 99})
    assert status == 400 and ctype.startswith("application/json")
    error = json.loads(body)
    assert error["ErrorType"] == "ArgumentException"
    assert error["Violations"][0] | {"message": ""} == {
        "location": "body.BlobId",
        "expected": "an id the fake issued",
        "got": "99",
        "message": "",
    }
    assert "Blob ids stored so far: 33" in error["Message"]
    assert fake.person_images == {}
    assert fake.calls.last.status == 400  # the rejected call is still journaled


async def test_blob_id_zero_removes_the_link(served: Any) -> None:
    fake, http = served
    await post(http, fake, "SaveImageStream", save_body())
    await post(http, fake, "ChangeProjectImage", {"ProjectId": 5, "BlobId": 33})
    status, _, _ = await post(http, fake, "ChangeProjectImage", {"ProjectId": 5, "BlobId": 0})
    assert status == 204
    assert fake.project_images == {}


async def test_attach_validates_like_every_call(served: Any) -> None:
    fake, http = served
    status, _, body = await post(http, fake, "ChangePersonImage", {"PersonId": "seven", "BlobId": 1})
    assert status == 400
    assert json.loads(body)["Violations"][0]["location"] == "body.PersonId"
    status, _, body = await post(http, fake, "ChangePersonImage", {"BlobId": 1})
    assert status == 400
    assert [v["location"] for v in json.loads(body)["Violations"]] == ["body.PersonId"]
    async with http.post(
        fake.url + AGENT + "ChangePersonImage",
        data=b"PersonId=1&BlobId=0",
        headers={"Content-Type": "text/plain", "Authorization": BASIC},
    ) as resp:
        assert resp.status == 415


async def test_attach_accepts_xml_and_form_bodies(served: Any) -> None:
    fake, http = served
    await post(http, fake, "SaveImageStream", save_body())
    xml = b"<ChangePersonImage><PersonId>3</PersonId><BlobId>33</BlobId></ChangePersonImage>"
    async with http.post(
        fake.url + AGENT + "ChangePersonImage",
        data=xml,
        headers={"Content-Type": "application/xml", "Authorization": BASIC},
    ) as resp:
        assert resp.status == 204
    async with http.post(
        fake.url + AGENT + "ChangeProjectImage",
        data=b"projectid=4&blobid=33",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": BASIC},
    ) as resp:
        assert resp.status == 204
    assert (fake.person_images, fake.project_images) == ({3: 33}, {4: 33})


@pytest.mark.parametrize(
    ("accept", "ctype", "decode"),
    [
        (None, "application/octet-stream", lambda b: b),
        ("*/*", "application/octet-stream", lambda b: b),
        ("application/octet-stream", "application/octet-stream", lambda b: b),
        ("application/json", "application/json; charset=utf-8", lambda b: base64.b64decode(json.loads(b))),
        ("text/xml", "text/xml; charset=utf-8", lambda b: base64.b64decode(b.split(b">")[1].split(b"<")[0])),
    ],
)
async def test_get_blob_stream_answers_the_stored_bytes(
    served: Any, accept: str | None, ctype: str, decode: Any
) -> None:
    fake, http = served
    await post(http, fake, "SaveImageStream", save_body(image=GIF))
    headers = {"Content-Type": "application/json", "Authorization": BASIC}
    if accept is not None:
        headers["Accept"] = accept
    async with http.post(fake.url + AGENT + "GetBlobStream", data=b'{"BlobEntityId": 33}', headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == ctype
        assert decode(await resp.read()) == GIF
    assert fake.calls.last.blob_id == 33


async def test_get_blob_stream_unknown_id_is_superoffice_not_found(served: Any) -> None:
    fake, http = served
    status, ctype, body = await post(
        http, fake, "GetBlobStream", {"BlobEntityId": 12}, Accept="application/octet-stream"
    )
    assert status == 404 and ctype.startswith("application/json")
    error = json.loads(body)
    assert (error["ErrorType"], error["ErrorSource"]) == ("SoNotFoundException", "SuperOffice.Services.Implementation")
    assert error["Violations"][0]["location"] == "body.BlobEntityId"
    assert error["Violations"][0]["got"] == "12"


async def test_full_flow_saves_attaches_and_reads_back(served: Any) -> None:
    fake, http = served
    _, _, blob = await post(http, fake, "SaveImageStream", save_body(image=PNG))
    await post(http, fake, "ChangePersonImage", {"PersonId": 1, "BlobId": int(blob)})
    status, _, data = await post(http, fake, "GetBlobStream", {"BlobEntityId": fake.person_images[1]}, Accept="*/*")
    assert (status, data) == (200, PNG)
    assert [c.operation for c in fake.calls] == ["SaveImageStream", "ChangePersonImage", "GetBlobStream"]


async def test_api_url_still_names_save_image_stream(served: Any) -> None:
    fake, _ = served
    assert fake.api_url == fake.url + SAVE_PATH


async def test_attach_and_read_back_are_not_counted_as_saves(served: Any) -> None:
    fake, http = served
    await post(http, fake, "SaveImageStream", save_body())
    await post(http, fake, "ChangePersonImage", {"PersonId": 1, "BlobId": 33})
    await post(http, fake, "GetBlobStream", {"BlobEntityId": 33})
    assert fake.assert_saved(blob_id=33, count=1).operation == "SaveImageStream"


@pytest.mark.parametrize("call", ["ChangePersonImage", "ChangeProjectImage", "GetBlobStream"])
async def test_companion_calls_need_credentials_like_save(served: Any, call: str) -> None:
    fake, http = served
    async with http.post(fake.url + AGENT + call, data=b"{}", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert fake.calls.last.operation == call


async def test_companion_errors_come_as_xml_when_asked(served: Any) -> None:
    fake, http = served
    xml = b"<ChangePersonImage><PersonId>1</PersonId><BlobId>5</BlobId></ChangePersonImage>"
    headers = {"Content-Type": "application/xml", "Accept": "application/xml", "Authorization": BASIC}
    async with http.post(fake.url + AGENT + "ChangePersonImage", data=xml, headers=headers) as resp:
        assert resp.status == 400
        assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
        assert b"<Location>body.BlobId</Location>" in await resp.read()
