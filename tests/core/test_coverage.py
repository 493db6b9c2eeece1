"""Contract coverage from the journal: over HTTP (/_coverage) and in Python (fake.coverage())."""

from __future__ import annotations

import base64
import json

from aiohttp import ClientSession

from mockserver import Fake, FakeServer, RawRequest
from mockserver.core.answering.coverage import error_statuses

from ..support import BASIC, SAVE_PATH, json_headers, save_body

AGENT = "/api/v1/Agents/BLOB/"


def send(fake: Fake, path: str, body: bytes, **headers: str) -> int:
    return fake.process(RawRequest.build("POST", path, headers=headers, body=body)).status


def test_a_fresh_fake_has_tried_nothing() -> None:
    report = Fake().coverage()
    assert report["operations"]["exercised"] == []
    assert "SaveImageStream: never called" in report["never_tried"]
    assert (report["exercised"], report["calls"]) == (0, 0)


def test_one_json_save_covers_exactly_what_it_used() -> None:
    fake = Fake()
    assert send(fake, SAVE_PATH, save_body(), **json_headers(Accept="application/json")) == 200
    report = fake.coverage()
    save = report["by_operation"]["SaveImageStream"]
    assert (save["called"], save["accepted"]) == (1, 1)
    assert save["request_media_types"]["exercised"] == ["application/json"]
    assert "text/xml" in save["request_media_types"]["never"]
    assert save["accept_types"]["exercised"] == ["application/json"]
    assert save["auth_schemes"]["exercised"] == ["Basic"]
    assert save["enums"]["Type"]["exercised"] == ["PersonImage"]
    assert "ExtraTableIcon" in save["enums"]["Type"]["never"]
    assert save["optional_properties"] == {"exercised": ["Type", "Description"], "never": [], "of": 2}
    assert save["error_statuses"]["exercised"] == []
    assert "SaveImageStream: Type = ProjectImage" in report["never_tried"]
    assert "SaveImageStream: error status 415" in report["never_tried"]
    assert report["operations"]["never"] == ["ChangePersonImage", "ChangeProjectImage", "GetBlobStream"]


def test_rejected_calls_count_for_what_they_tried() -> None:
    fake = Fake()
    send(fake, SAVE_PATH, b"<x><Type>2</Type></x>", **{"Content-Type": "text/xml", "Authorization": BASIC})
    send(fake, SAVE_PATH, save_body(), **{"Content-Type": "text/plain", "Authorization": BASIC})
    send(fake, SAVE_PATH, b"{}", **{"Content-Type": "application/json", "Authorization": "SOTicket 7T:abc"})
    save = fake.coverage()["by_operation"]["SaveImageStream"]
    assert save["accepted"] == 0
    # text/plain is not in the contract: shown as tried, not counted.
    assert save["request_media_types"]["exercised"] == ["application/json", "text/xml", "text/plain"]
    assert save["enums"]["Type"]["exercised"] == ["ProjectImage"]  # bound before the missing Image was found
    assert 400 in save["error_statuses"]["exercised"] and 415 in save["error_statuses"]["exercised"]
    assert "SOTicket" in save["auth_schemes"]["exercised"]
    assert "SaveImageStream: never accepted" in fake.coverage()["never_tried"]


def test_behaviour_errors_are_part_of_the_contract() -> None:
    fake = Fake()
    get_blob = fake.contracts.named("GetBlobStream")
    assert 404 in error_statuses(get_blob)
    assert 507 in error_statuses(fake.contracts.named("SaveImageStream"))
    send(fake, AGENT + "GetBlobStream", b'{"BlobEntityId": 5}', **json_headers())
    report = fake.coverage()["by_operation"]["GetBlobStream"]
    assert report["error_statuses"]["exercised"] == [404]
    assert report["accept_types"]["exercised"] == ["application/octet-stream"]


async def test_coverage_route_reports_the_flow_over_http() -> None:
    async with FakeServer(port=0) as fake, ClientSession() as http:
        await http.post(fake.url + SAVE_PATH, data=save_body(), headers=json_headers())
        body = json.dumps({"PersonId": 1, "BlobId": 1}).encode()
        await http.post(fake.url + AGENT + "ChangePersonImage", data=body, headers=json_headers())
        ticket = "Basic " + base64.b64encode(b"u:p").decode()
        await http.post(
            fake.url + AGENT + "GetBlobStream",
            data=b"BlobEntityId=1",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": ticket},
        )
        async with http.get(fake.url + "/_coverage") as resp:
            assert resp.status == 200
            report = await resp.json()
    assert report["operations"] == {
        "exercised": ["ChangePersonImage", "GetBlobStream", "SaveImageStream"],
        "never": ["ChangeProjectImage"],
        "of": 4,
    }
    assert report["by_operation"]["GetBlobStream"]["request_media_types"]["exercised"] == [
        "application/x-www-form-urlencoded"
    ]
    assert report["calls"] == 3
    assert 0 < report["percent"] < 100
    assert report == fake.coverage()


def test_accept_types_follow_the_negotiation_the_fake_did() -> None:
    fake = Fake()
    xml = b"<x><Type>PersonImage</Type><Image>R0lGODlhAQABAAAAACw=</Image></x>"
    send(fake, SAVE_PATH, xml, **{"Content-Type": "text/xml", "Accept": "*/*", "Authorization": BASIC})
    send(fake, AGENT + "GetBlobStream", b'{"BlobEntityId": 1}', **json_headers(Accept="*/*"))
    assert [c.response_type for c in fake.calls] == ["text/xml", "application/octet-stream"]
    report = fake.coverage()["by_operation"]
    assert report["SaveImageStream"]["accept_types"]["exercised"] == ["text/xml"]
    assert report["GetBlobStream"]["accept_types"]["exercised"] == ["application/octet-stream"]
