"""mockserver.connect: a served fake driven over HTTP with the in-process fake's API and messages."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
from collections.abc import Iterator

import pytest
import requests

import mockserver
from mockserver import ApiError, CallRecord, ConfigError, RemoteFake, ThreadedFakeServer
from mockserver.core.assertions import ExpectationFailed

from ..support import GIF, PNG, json_headers, save_body


@pytest.fixture
def served() -> Iterator[tuple[ThreadedFakeServer, RemoteFake]]:
    with ThreadedFakeServer(port=0, first_id=33, tenants="isolated") as fake:
        yield fake, mockserver.connect(fake.url)


def save(url: str, body: bytes | None = None) -> requests.Response:
    data = body if body is not None else save_body()
    return requests.post(url, data=data, headers=json_headers(), timeout=10)


def message(call: object) -> str:
    with pytest.raises(AssertionError) as caught:
        call()  # type: ignore[operator]
    return str(caught.value)


def same_but_time(a: CallRecord, b: CallRecord) -> None:
    """Equal but for the time (JSON has milliseconds) and `result`, which /_calls does not show."""
    assert dataclasses.replace(a, time=0, result=None) == dataclasses.replace(b, time=0, result=None)
    assert abs(a.time - b.time) < 0.001


def test_calls_are_the_same_records_as_in_process(served: tuple[ThreadedFakeServer, RemoteFake]) -> None:
    fake, remote = served
    save(remote.api_url, save_body(image=GIF, description="me"))
    save(remote.api_url, save_body(type_="Nope"))
    local, far = list(fake.calls), list(remote.calls)
    assert len(far) == 2
    for a, b in zip(local, far, strict=True):
        same_but_time(a, b)
    assert far[0].image is not None and far[0].image.sha256 == hashlib.sha256(GIF).hexdigest()
    assert far[1].violations and not far[1].accepted
    assert remote.calls.accepted.last.blob_id == 33


def test_assertions_give_the_in_process_text(served: tuple[ThreadedFakeServer, RemoteFake]) -> None:
    fake, remote = served
    save(remote.api_url, save_body(description="you"))
    record = remote.assert_saved("PersonImage", "you", PNG)
    same_but_time(record, fake.assert_saved("PersonImage", "you", PNG))
    assert message(lambda: remote.assert_saved("PersonImage", "me")) == message(
        lambda: fake.assert_saved("PersonImage", "me")
    )
    with pytest.raises(ExpectationFailed) as caught:
        remote.assert_saved(description="me")
    assert caught.value.near_misses[0].differences == (("Description", "'me'", "'you'"),)
    remote.assert_no_violations()
    remote.assert_no_warnings()
    save(remote.api_url, save_body(type_="Nope"))
    assert message(remote.assert_no_violations) == message(fake.assert_no_violations)
    assert remote.assert_saved(image_sha256=hashlib.sha256(PNG).hexdigest(), count=1).blob_id == 33


def test_faults_reset_ids_and_images(served: tuple[ThreadedFakeServer, RemoteFake]) -> None:
    fake, remote = served
    handle = remote.inject("status", status=503)
    assert handle.active and handle.remaining == 1
    assert save(remote.api_url).status_code == 503
    assert handle.hits == 1 and not handle.active
    handle = remote.inject({"kind": "status", "status": 500, "times": 3})
    handle.remove()
    handle.remove()  # gone already: nothing happens
    assert [f.id for f in fake.faults] == [1]  # the spent one stays listed, as in-process
    remote.inject("drop")
    assert remote.clear_faults() == 2 and len(fake.faults) == 0
    with pytest.raises(ConfigError) as bad:
        remote.inject("sometimes")
    with pytest.raises(ConfigError) as local_bad:
        fake.inject("sometimes")
    assert str(bad.value) == str(local_bad.value)
    assert save(remote.api_url).text == "33"
    assert remote.images[33] == PNG and 33 in remote.images and 34 not in remote.images
    assert list(remote.images) == [33] and len(remote.images) == 1
    with pytest.raises(KeyError):
        remote.images[99]
    assert remote.next_id == 34
    remote.reset()
    assert remote.next_id == 33 and not remote.calls and len(fake.calls) == 0


def test_waiting_from_sync_code(served: tuple[ThreadedFakeServer, RemoteFake]) -> None:
    fake, remote = served
    later = threading.Timer(0.2, lambda: save(remote.api_url, save_body(description="queued")))
    later.start()
    try:
        assert remote.wait_for_sync(description="queued", timeout=20).description == "queued"
    finally:
        later.join()
    assert len(remote.wait_for_calls_sync(1, timeout=1, outcome="accepted")) == 1
    with pytest.raises(AssertionError) as caught:
        remote.wait_for_calls_sync(2, timeout=0.2)
    assert str(caught.value) == message(lambda: fake.check_calls(2, 0.2))


async def test_waiting_from_async_code(served: tuple[ThreadedFakeServer, RemoteFake]) -> None:
    fake, remote = served

    async def later() -> None:
        await asyncio.sleep(0.2)
        await asyncio.to_thread(save, remote.api_url, save_body(description="async"))

    saving = asyncio.create_task(later())
    record = await remote.wait_for(description="async", timeout=20)
    await saving
    assert record.description == "async"
    assert len(await remote.wait_for_calls(1, timeout=1)) == 1
    with pytest.raises(AssertionError) as caught:
        await remote.wait_for(description="never", timeout=0.2)
    assert str(caught.value) == message(lambda: fake.assert_saved(description="never"))


def test_a_tenant_is_its_own_view(served: tuple[ThreadedFakeServer, RemoteFake]) -> None:
    fake, remote = served
    one = remote.tenant("Cust1")
    save(one.api_url)
    assert one.url.endswith("/Cust1") and len(one.calls) == 1
    assert one.assert_saved().blob_id == 33 and not remote.tenant("Cust2").calls
    assert message(lambda: remote.tenant("Cust2").assert_saved()) == message(
        lambda: fake.tenant("Cust2").assert_saved()
    )


def test_the_admin_token_is_sent_and_its_absence_is_a_clear_error() -> None:
    with ThreadedFakeServer(port=0, admin_token="s3cret") as fake:
        with pytest.raises(ApiError) as caught:
            mockserver.connect(fake.url).calls  # noqa: B018 (the request is the test)
        assert caught.value.status == 401
        assert caught.value.violations[0].location == "header.Authorization"
        remote = mockserver.connect(fake.url, admin_token="s3cret")
        save(remote.api_url)
        assert remote.assert_saved().blob_id == fake.settings.first_id


def test_nothing_listening_is_a_connection_error() -> None:
    with ThreadedFakeServer(port=0) as fake:
        url = fake.url
    with pytest.raises(ConnectionError, match="no fake answers at"):
        mockserver.connect(url).calls  # noqa: B018 (the request is the test)
