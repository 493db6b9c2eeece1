"""assert_saved, assert_no_violations, assert_no_warnings and wait_for_calls, messages included."""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests
from aiohttp import ClientSession

from mockserver import Fake, FakeServer, ImageInfo, RawRequest, ThreadedFakeServer

from ..support import GIF, PNG, SAVE_PATH, json_headers, save_body


def post(fake: Fake, body: bytes, **headers: str) -> None:
    fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(**headers), body=body))


def test_assert_saved_returns_the_latest_matching_call() -> None:
    fake = Fake(first_id=33)
    post(fake, save_body(description="one"))
    post(fake, save_body(description="two", image=GIF))
    record = fake.assert_saved(type="personimage", image=GIF)
    assert record.blob_id == 34
    assert fake.assert_saved().blob_id == 34
    assert fake.assert_saved(description="one", blob_id=33).seq == 1


def test_assert_saved_failure_shows_the_closest_calls_and_each_differing_field() -> None:
    fake = Fake(first_id=33)
    post(fake, save_body(type_="ProjectImage", description="logo"))
    post(fake, save_body(type_="Nope", description="me"))
    with pytest.raises(AssertionError) as info:
        fake.assert_saved(type="PersonImage", description="me")
    assert str(info.value) == (
        "Expected an accepted save with:\n"
        "  outcome     = accepted\n"
        "  Type        = 'PersonImage'\n"
        "  Description = 'me'\n"
        "but none arrived.\n"
        "2 call(s) recorded; the closest:\n"
        "  #2 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected\n"
        "      outcome: expected accepted, got rejected (400: body.Type must be a BlobLinkType name or number "
        "(1-19) (got 'Nope', which is not a BlobLinkType))\n"
        "      Type: expected 'PersonImage', got 'Nope', which is not a BlobLinkType\n"
        "  #1 POST /api/v1/Agents/BLOB/SaveImageStream -> 200 blob id 33\n"
        "      Type: expected 'PersonImage', got 'ProjectImage'\n"
        "      Description: expected 'me', got 'logo'"
    )


def test_assert_saved_compares_images_by_content_and_describes_both() -> None:
    fake = Fake()
    post(fake, save_body(image=PNG))
    with pytest.raises(AssertionError) as info:
        fake.assert_saved(image=GIF)
    gif, png = ImageInfo.of(GIF), ImageInfo.of(PNG)
    assert (
        f"      Image: expected {len(GIF)} bytes, gif, sha256 {gif.sha256[:12]}…, "
        f"got {len(PNG)} bytes, png, sha256 {png.sha256[:12]}…"
    ) in str(info.value)


def test_assert_saved_with_no_calls_says_so() -> None:
    with pytest.raises(AssertionError, match=r"but none arrived\.\nNo calls were recorded\.$"):
        Fake().assert_saved(type="PersonImage")


def test_assert_saved_count_must_match_exactly() -> None:
    fake = Fake()
    post(fake, save_body())
    post(fake, save_body())
    assert fake.assert_saved(type="PersonImage", count=2).seq == 2
    with pytest.raises(AssertionError) as info:
        fake.assert_saved(type="PersonImage", count=1)
    assert str(info.value).startswith(
        "Expected 1 accepted save(s) with:\n  outcome = accepted\n  Type    = 'PersonImage'\nbut 2 matched (#1, #2).\n"
    )


def test_near_misses_are_capped_and_the_rest_counted() -> None:
    fake = Fake()
    for n in range(5):
        post(fake, save_body(description=f"d{n}"))
    with pytest.raises(AssertionError) as info:
        fake.assert_saved(description="x")
    text = str(info.value)
    # Equally close calls: the newest first.
    assert "  #5 POST" in text and "  #3 POST" in text and "  #2 POST" not in text
    assert text.endswith("  … and 2 more (fake.calls has them all)")


def test_assert_no_violations_lists_every_violation_of_every_rejected_call() -> None:
    fake = Fake()
    post(fake, save_body())
    fake.assert_no_violations()
    post(fake, b'{"Type": "Nope", "Description": "no image"}')
    with pytest.raises(AssertionError) as info:
        fake.assert_no_violations()
    lines = str(info.value).splitlines()
    assert lines[0] == "Expected no rejected calls, but 1 of 2 were rejected:"
    assert lines[1] == "  #2 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected"
    assert [line.split(" must be ")[0].strip() for line in lines[2:]] == ["body.Type", "body.Image"]


def test_assert_no_warnings_lists_the_warnings() -> None:
    fake = Fake()
    post(fake, save_body())
    fake.assert_no_warnings()
    post(fake, save_body(Extra=1))
    with pytest.raises(AssertionError) as info:
        fake.assert_no_warnings()
    assert str(info.value) == (
        "Expected no warnings, but 1 of 2 calls had some:\n"
        "  #2 POST /api/v1/Agents/BLOB/SaveImageStream -> 200 blob id 2\n"
        "      body.Extra must be one of the known properties (Type, Image, Description) (got an unknown property)"
    )


async def test_wait_for_calls_in_the_serving_loop() -> None:
    async with FakeServer(port=0) as fake, ClientSession() as http:

        async def later() -> None:
            await asyncio.sleep(0.01)
            for _ in range(2):
                async with http.post(fake.api_url, data=save_body(), headers=json_headers()) as resp:
                    assert resp.status == 200

        task = asyncio.create_task(later())
        calls = await fake.wait_for_calls(2, timeout=10)
        await task
        assert [c.blob_id for c in calls] == [1, 2]


async def test_wait_for_calls_times_out_with_what_did_arrive() -> None:
    async with FakeServer(port=0) as fake, ClientSession() as http:
        async with http.post(fake.api_url, data=save_body(type_="Nope"), headers=json_headers()) as resp:
            assert resp.status == 400
        with pytest.raises(AssertionError) as info:
            await fake.wait_for_calls(1, timeout=0.05, outcome="accepted")
    assert str(info.value) == (
        "Expected 1 call(s) with outcome='accepted' within 0.05 s, but 0 arrived.\n"
        "Calls recorded:\n"
        "  #1 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected"
    )


async def test_wait_for_calls_from_a_loop_while_a_thread_serves() -> None:
    with ThreadedFakeServer(port=0) as fake:
        sender = threading.Thread(target=lambda: requests.post(fake.api_url, data=save_body(), headers=json_headers()))
        sender.start()
        calls = await fake.wait_for_calls(1, timeout=10)
        sender.join()
    assert calls.last.blob_id == 1


def test_wait_for_calls_sync_with_a_threaded_fake() -> None:
    with ThreadedFakeServer(port=0) as fake:
        sender = threading.Thread(
            target=lambda: [requests.post(fake.api_url, data=save_body(), headers=json_headers()) for _ in range(3)]
        )
        sender.start()
        calls = fake.wait_for_calls_sync(3, timeout=10)
        sender.join()
        assert [c.seq for c in calls] == [1, 2, 3]
        with pytest.raises(AssertionError, match=r"^Expected 4 call\(s\) within 0.01 s, but 3 arrived\."):
            fake.wait_for_calls_sync(4, timeout=0.01)


def test_wait_for_calls_sync_on_an_unserved_fake_sees_calls_from_threads() -> None:
    fake = Fake()
    worker = threading.Thread(target=lambda: post(fake, save_body()))
    worker.start()
    assert fake.wait_for_calls_sync(1, timeout=10).last.blob_id == 1
    worker.join()


async def test_wait_for_calls_sync_refuses_to_block_the_loop_that_serves() -> None:
    async with FakeServer(port=0) as fake:
        with pytest.raises(RuntimeError, match=r"await fake\.wait_for_calls"):
            fake.wait_for_calls_sync(1, timeout=0.01)
