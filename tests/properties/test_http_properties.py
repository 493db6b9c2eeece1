"""The same properties over real HTTP, fewer examples: what the core promises survives the shell.

One fake per installation serves every example (ids keep counting); `http.client` sends exactly
the header names, casings, order and duplicates the strategies drew.
"""

from __future__ import annotations

import hashlib
import http.client
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import ThreadedFakeServer

from .mutations import anything, mutated_requests
from .oracle import judge, parse_answer, response_media, violation_locations
from .strategies import Request, budget, valid_requests

INSTALLATIONS = ("onsite", "online")
installations = st.sampled_from(INSTALLATIONS)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ThreadedFakeServer]]:
    with (
        ThreadedFakeServer(port=0, installation="onsite", journal_limit=0, first_id=500) as onsite,
        ThreadedFakeServer(port=0, installation="online", journal_limit=0, first_id=900) as online,
    ):
        yield {"onsite": onsite, "online": online}


def send(fake: ThreadedFakeServer, req: Request) -> tuple[int, str | None, bytes]:
    conn = http.client.HTTPConnection(fake.host, fake.port, timeout=30)
    try:
        conn.putrequest(req.method, req.path + (f"?{req.query}" if req.query else ""), skip_accept_encoding=True)
        for name, value in req.headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(req.body)))
        conn.endheaders(req.body)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def get(fake: ThreadedFakeServer, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(fake.host, fake.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def answer(req: Request, ctype: str | None, body: bytes) -> object:
    assert (ctype or "").split(";")[0] == response_media(req), (ctype, req.header("Accept"))
    return parse_answer(body, ctype)


@budget(120)
@given(installation=installations, data=st.data())
def test_property1_over_http_valid_requests_get_the_next_id_and_the_image_round_trips(
    servers: dict[str, ThreadedFakeServer], installation: str, data: st.DataObject
) -> None:
    fake = servers[installation]
    save, req = data.draw(valid_requests(installation), label="request")
    expected = fake.next_id

    status, ctype, body = send(fake, req)

    assert status == 200, body[:300]
    assert answer(req, ctype, body) == expected
    assert fake.next_id == expected + 1
    record = fake.calls.last
    assert (record.blob_id, record.type, record.description) == (expected, save.type, save.description)
    assert record.image is not None and record.image.sha256 == hashlib.sha256(save.image).hexdigest()
    assert get(fake, f"/_images/{expected}") == (200, save.image)


@budget(150)
@given(installation=installations, data=st.data())
def test_property3_over_http_mutations_are_rejected_naming_the_part(
    servers: dict[str, ThreadedFakeServer], installation: str, data: st.DataObject
) -> None:
    fake = servers[installation]
    req, mutation = data.draw(mutated_requests(installation), label="mutated")
    verdict = judge(req)
    next_id, count = fake.next_id, fake.state.journal.total

    status, ctype, body = send(fake, req)

    locations = violation_locations(answer(req, ctype, body))
    assert status == verdict.status, (mutation, status, verdict, body[:300])
    if mutation.status is not None:
        assert status == mutation.status
    assert any(loc.lower().startswith(mutation.part.lower()) for loc in locations), (mutation, locations)
    assert verdict.explains(locations), (verdict, locations)
    assert fake.next_id == next_id and fake.state.journal.total == count + 1


@budget(250)
@given(installation=installations, data=st.data())
def test_property4_and_5_over_http_no_5xx_every_request_journaled_answers_parse(
    servers: dict[str, ThreadedFakeServer], installation: str, data: st.DataObject
) -> None:
    fake = servers[installation]
    req = data.draw(anything(installation, http_safe=True), label="request")
    count = fake.state.journal.total

    status, ctype, body = send(fake, req)

    assert status < 500, body[:300]
    assert fake.state.journal.total == count + 1, "a request was not journaled"
    assert fake.calls.last.status == status
    assert status == judge(req).status, (status, body[:300])
    if req.method != "HEAD":
        answer(req, ctype, body)
    assert get(fake, "/_health")[0] == 200  # still alive
