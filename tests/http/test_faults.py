"""Fault injection seen from real clients (aiohttp and requests), the journal, and /_faults."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator

import aiohttp
import pytest
import requests

from mockserver import ConfigError, Fake, FakeServer, RawRequest, ThreadedFakeServer
from mockserver.core.answering.faults import Fault, FaultSet

from ..support import GIF, PNG, SAVE_PATH, json_headers, save_body

STATUS_CASES = [
    # status, ErrorType, words of the message, headers the client must see
    (500, "Exception", "unexpected error", {}),
    (503, "ServiceUnavailableException", "temporarily unavailable", {"Retry-After": "1"}),
    (429, "TooManyRequestsException", "Too many requests", {"Retry-After": "1"}),
    (401, "SoCredentialsException", "expired", {"WWW-Authenticate": 'Basic realm="SuperOffice Username or Ticket"'}),
    (421, "WrongSubdomainException", "Wrong subdomain used to access tenant", {}),
]


@pytest.fixture
def threaded() -> Iterator[ThreadedFakeServer]:
    with ThreadedFakeServer(port=0) as fake:
        yield fake


def _save(fake: Fake, body: bytes | None = None) -> RawRequest:
    return RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=body or save_body())


# ---- status faults ---------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error_type", "words", "headers"), STATUS_CASES)
async def test_status_fault_seen_by_aiohttp(status: int, error_type: str, words: str, headers: dict[str, str]) -> None:
    async with FakeServer(port=0) as fake, aiohttp.ClientSession() as http:
        fake.inject("status", status=status)
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert resp.status == status
            for name, value in headers.items():
                assert resp.headers[name] == value
            body = await resp.json()
        assert body["Error"] is True
        assert body["ErrorType"] == error_type
        assert words in body["Message"]
        assert body["ErrorSource"] == "SuperOffice.Services.WebApi"
        # The faulted save used no id: the retry gets the first one.
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert (resp.status, await resp.text()) == (200, "1")
    first, second = fake.calls
    assert (first.status, first.fault, first.blob_id) == (status, f"status {status}", None)
    assert (second.status, second.fault, second.blob_id) == (200, None, 1)
    assert list(fake.images) == [1]


@pytest.mark.parametrize(("status", "error_type", "words", "headers"), STATUS_CASES)
def test_status_fault_seen_by_requests(
    threaded: ThreadedFakeServer, status: int, error_type: str, words: str, headers: dict[str, str]
) -> None:
    threaded.inject("status", status=status)
    resp = requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=5)
    assert resp.status_code == status
    assert {k: resp.headers[k] for k in headers} == headers
    assert resp.json()["ErrorType"] == error_type
    assert words in resp.json()["Message"]
    assert threaded.calls.last.fault == f"status {status}"


def test_status_fault_answers_in_xml_when_the_client_asks_for_xml(threaded: ThreadedFakeServer) -> None:
    threaded.inject("status", status=503, retry_after=7, message="Down for maintenance")
    resp = requests.post(threaded.api_url, data=save_body(), headers=json_headers(Accept="application/xml"), timeout=5)
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "7"
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert "Down for maintenance" in resp.text


# ---- dropped connection ---------------------------------------------------------------


async def test_drop_seen_by_aiohttp_as_server_disconnected() -> None:
    async with FakeServer(port=0) as fake, aiohttp.ClientSession() as http:
        fake.inject("drop")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
                await resp.read()
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert await resp.text() == "1"
    dropped = fake.calls.first
    assert (dropped.status, dropped.fault, dropped.blob_id, dropped.accepted) == (0, "drop", None, False)


def test_drop_seen_by_requests_as_connection_error(threaded: ThreadedFakeServer) -> None:
    threaded.inject("drop")
    with pytest.raises(requests.ConnectionError, match="without response"):
        requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=5)
    assert threaded.calls.last.fault == "drop"
    assert threaded.next_id == 1


# ---- truncated body ---------------------------------------------------------------------


async def test_truncate_seen_by_aiohttp_as_payload_error() -> None:
    async with FakeServer(port=0, first_id=1234) as fake, aiohttp.ClientSession() as http:
        fake.inject("truncate")
        with pytest.raises(aiohttp.ClientPayloadError, match="ContentLengthError"):
            async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Length"] == "4"
                await resp.read()
    record = fake.calls.last
    # The answer came from a save that ran: the id is used and the image stored.
    assert (record.status, record.fault, record.blob_id) == (200, "truncate", 1234)
    assert fake.images[1234] == PNG


def test_truncate_seen_by_requests_as_chunked_encoding_error(threaded: ThreadedFakeServer) -> None:
    threaded.inject("truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=5)
    assert threaded.calls.last.fault == "truncate"


# ---- delays -----------------------------------------------------------------------------


async def test_delay_beyond_the_client_timeout_seen_by_aiohttp() -> None:
    async with FakeServer(port=0) as fake, aiohttp.ClientSession() as http:
        fake.inject("delay", delay_ms=500)
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(
                fake.api_url, data=save_body(), headers=json_headers(), timeout=aiohttp.ClientTimeout(total=0.2)
            ) as resp:
                await resp.read()
        # The slow call still ran: a slow server does the work, the client just stopped waiting.
        assert fake.calls.last.fault == "delay 500ms"
        assert fake.calls.last.blob_id == 1
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert await resp.text() == "2"


def test_delay_seen_by_requests_as_read_timeout_and_then_answered(threaded: ThreadedFakeServer) -> None:
    threaded.inject("delay", delay_ms=500, times=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=0.2)
    # A patient client gets the answer.
    resp = requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=5)
    assert (resp.status_code, resp.text) == (200, "2")


async def test_delay_past_the_3000ms_slow_threshold_and_then_a_503() -> None:
    async with FakeServer(port=0) as fake, aiohttp.ClientSession() as http:
        fake.inject("delay", delay_ms=3500)
        fake.inject("status", status=503, delay_ms=100)
        timeout = aiohttp.ClientTimeout(total=0.2)
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(fake.api_url, data=save_body(), headers=json_headers(), timeout=timeout) as resp:
                await resp.read()
        async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
            assert resp.status == 503
    assert [c.fault for c in fake.calls] == ["delay 3500ms", "status 503 after 100ms"]


# ---- the lost response -----------------------------------------------------------------


def _retrying_save(url: str, body: bytes, attempts: int = 3) -> tuple[int, list[str]]:
    """What a typical client does: retry on a dropped connection or a 5xx."""
    seen: list[str] = []
    for _ in range(attempts):
        try:
            resp = requests.post(url, data=body, headers=json_headers(), timeout=5)
        except requests.ConnectionError as exc:
            seen.append(type(exc).__name__)
            continue
        seen.append(str(resp.status_code))
        if resp.status_code == 200:
            return int(resp.text), seen
    raise AssertionError(f"no attempt succeeded: {seen}")


@pytest.mark.parametrize("kind", ["drop", "status"])
def test_lost_response_makes_a_retrying_client_store_the_image_twice(threaded: ThreadedFakeServer, kind: str) -> None:
    threaded.inject(kind, after_save=True, **({"status": 500} if kind == "status" else {}))
    blob_id, seen = _retrying_save(threaded.api_url, save_body(image=GIF, description="holiday"))
    assert seen == (["ConnectionError", "200"] if kind == "drop" else ["500", "200"])
    assert blob_id == 2  # the client only ever learned of id 2 ...
    assert list(threaded.images) == [1, 2]  # ... but the fake stored the picture under 1 as well
    lost, kept = threaded.calls
    assert lost.fault == f"{'drop' if kind == 'drop' else 'status 500'} after save"
    assert (lost.blob_id, lost.accepted, kept.blob_id, kept.accepted) == (1, False, 2, True)
    # How a test finds the duplicate: the same bytes stored under more than one id.
    by_hash = Counter(c.image.sha256 for c in threaded.calls if c.blob_id is not None and c.image)
    assert list(by_hash.values()) == [2]


def test_a_fault_without_after_save_leaves_no_duplicate(threaded: ThreadedFakeServer) -> None:
    threaded.inject("drop")
    blob_id, _seen = _retrying_save(threaded.api_url, save_body())
    assert blob_id == 1
    assert list(threaded.images) == [1]


# ---- matching: path, Type, principal, times, fraction ----------------------------------


def test_fault_matches_type_and_leaves_other_types_alone() -> None:
    fake = Fake()
    fake.inject("status", status=503, type="projectimage")
    assert fake.process(_save(fake, save_body(type_="PersonImage"))).status == 200
    assert fake.process(_save(fake, save_body(type_=2))).status == 503  # 2 is ProjectImage by number
    assert fake.process(_save(fake, save_body(type_="ProjectImage"))).status == 200


def test_fault_matches_the_principal_from_the_credentials() -> None:
    fake = Fake()
    fake.inject("status", status=401, principal="someone-else")
    handle = fake.inject("status", status=401, principal="tje0")  # the user in Basic dGplMDpUamUw
    assert fake.process(_save(fake)).status == 401
    assert fake.calls.last.auth.principal == "tje0"
    assert handle.hits == 1


def test_fault_path_accepts_operation_name_and_prefixed_path_and_ignores_other_calls() -> None:
    fake = Fake()
    by_path = fake.inject("status", status=500, path="/Cust12345/api/v1/agents/blob/saveimagestream")
    by_name = fake.inject("status", status=503, path="SaveImageStream")
    assert (by_path.operation, by_name.operation) == ("SaveImageStream", "SaveImageStream")
    other = fake.inject("status", status=500, path="GetBlobStream")
    fake.process(_save(fake))
    fake.process(_save(fake))
    assert [c.status for c in fake.calls] == [500, 503]
    assert other.hits == 0 and other.remaining == 1
    with pytest.raises(ConfigError, match=r"fault\.path must be an agent path or operation name"):
        fake.inject("drop", path="/api/v1/Agents/Nope")


def test_times_applies_to_the_next_n_calls_then_stops() -> None:
    fake = Fake()
    handle = fake.inject("status", status=503, times=2)
    statuses = [fake.process(_save(fake)).status for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert (handle.hits, handle.remaining, handle.active) == (2, 0, False)
    assert fake.next_id == 3


def test_fraction_with_a_seed_is_deterministic() -> None:
    def pattern(seed: int) -> list[int]:
        fake = Fake()
        fake.inject("status", status=503, fraction=0.5, seed=seed)
        return [fake.process(_save(fake)).status for _ in range(30)]

    first = pattern(7)
    assert first == pattern(7)
    assert first != pattern(8)
    assert 5 < first.count(503) < 25  # a share, not all or nothing
    assert set(first) == {200, 503}


def test_a_rejected_call_does_not_use_up_a_fault() -> None:
    fake = Fake()
    fake.inject("status", status=503)
    assert fake.process(_save(fake, b'{"Type": "NoSuchType"}')).status == 400
    assert fake.process(_save(fake)).status == 503


def test_first_injected_fault_wins_and_handles_can_be_removed() -> None:
    fake = Fake()
    first = fake.inject("status", status=500, times=None, fraction=1.0)
    fake.inject("status", status=503)
    assert fake.process(_save(fake)).status == 500
    first.remove()
    assert not first.active
    assert fake.process(_save(fake)).status == 503
    assert fake.clear_faults() == 1
    assert fake.process(_save(fake)).status == 200


def test_reset_forgets_faults() -> None:
    fake = Fake()
    fake.inject("drop")
    fake.reset()
    assert len(fake.faults) == 0


@pytest.mark.parametrize(
    ("spec", "location"),
    [
        ({"kind": "explode"}, "fault.kind"),
        ({"kind": "status"}, "fault.status"),
        ({"kind": "status", "status": 200}, "fault.status"),
        ({"kind": "delay"}, "fault.delay_ms"),
        ({"kind": "drop", "fraction": 1.5}, "fault.fraction"),
        ({"kind": "drop", "times": 0}, "fault.times"),
        ({"kind": "drop", "after_save": "yes"}, "fault.after_save"),
        ({"kind": "drop", "colour": "red"}, "fault.colour"),
    ],
)
def test_bad_fault_specs_are_refused_naming_the_field(spec: dict[str, object], location: str) -> None:
    with pytest.raises(ConfigError, match=location.replace(".", r"\.")):
        Fake().inject(spec)


def test_fault_set_unit_matching() -> None:
    faults = FaultSet()
    handle = faults.add(Fault("drop", principal="TJE0", times=3), "SaveImageStream")
    assert faults.match("SaveImageStream", None, "someone") is None
    assert faults.match("GetBlobStream", None, "tje0") is None
    hit = faults.match("SaveImageStream", "PersonImage", "tje0")
    assert hit is not None and hit.label == "drop"
    assert (handle.matched, handle.hits, handle.remaining) == (1, 1, 2)


# ---- the pytest marker -----------------------------------------------------------------


@pytest.mark.superoffice(first_id=50, faults=[{"kind": "status", "status": 503, "times": 2}, Fault("drop")])
def test_marker_injects_faults_before_the_test(superoffice_fake: ThreadedFakeServer) -> None:
    outcomes = []
    for _ in range(4):
        try:
            resp = requests.post(superoffice_fake.api_url, data=save_body(), headers=json_headers(), timeout=5)
            outcomes.append(resp.status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")
    assert outcomes == [503, 503, "dropped", 200]
    assert superoffice_fake.calls.last.blob_id == 50


@pytest.mark.superoffice(faults=[{"kind": "truncate"}])
async def test_marker_faults_with_the_async_fixture(superoffice_fake_async: FakeServer) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with http.post(superoffice_fake_async.api_url, data=save_body(), headers=json_headers()) as r:
                await r.read()


# ---- /_faults over HTTP ---------------------------------------------------------------


def test_faults_over_http_post_get_delete(threaded: ThreadedFakeServer) -> None:
    url = threaded.url + "/_faults"
    created = requests.post(
        url, json=[{"kind": "status", "status": 429, "retry_after": 3}, {"kind": "drop"}], timeout=5
    )
    assert created.status_code == 201
    first, second = created.json()["faults"]
    assert (first["label"], first["remaining"], second["kind"]) == ("status 429", 1, "drop")

    resp = requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=5)
    assert (resp.status_code, resp.headers["Retry-After"]) == (429, "3")
    listed = requests.get(url, timeout=5).json()["faults"]
    assert [(f["id"], f["hits"], f["active"]) for f in listed] == [(first["id"], 1, False), (second["id"], 0, True)]

    assert requests.delete(f"{url}/{second['id']}", timeout=5).json() == {"removed": second["id"]}
    assert requests.delete(f"{url}/{second['id']}", timeout=5).status_code == 404
    requests.post(url, json={"kind": "drop"}, timeout=5)
    assert requests.delete(url, timeout=5).json() == {"cleared": 2}
    assert requests.post(threaded.api_url, data=save_body(), headers=json_headers(), timeout=5).status_code == 200
    record = requests.get(threaded.url + "/_calls", timeout=5).json()["calls"][0]
    assert record["fault"] == "status 429"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (b"{not json", "body"),
        (b'{"kind": "status", "status": 99}', "fault.status"),
        (b'[{"kind": "drop"}, {"kind": "status", "status": "503"}]', "faults[1].status"),
        (b'["drop"]', "faults[0]"),
        (b'{"kind": "drop", "path": "/nowhere"}', "fault.path"),
    ],
)
def test_bad_faults_over_http_are_a_400_in_superoffice_shape(
    threaded: ThreadedFakeServer, body: bytes, location: str
) -> None:
    resp = requests.post(threaded.url + "/_faults", data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert resp.status_code == 400
    error = resp.json()
    assert error["Error"] is True and error["ErrorType"] == "ArgumentException"
    assert error["Violations"][0]["location"] == location
    assert requests.get(threaded.url + "/_faults", timeout=5).json() == {"faults": []}  # all or nothing


def test_fault_json_round_trips_through_to_json() -> None:
    fake = Fake()
    handle = fake.inject("status", status=503, fraction=0.25, seed=3, type="PersonImage")
    again = fake.inject({k: v for k, v in handle.to_json().items() if k in Fault.__dataclass_fields__})
    assert again.fault == handle.fault
    assert json.loads(json.dumps(handle.to_json()))["fraction"] == 0.25
