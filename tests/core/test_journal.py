"""The call journal: records, the bound and `dropped`, CallList filters, seq across clear and reset."""

from __future__ import annotations

import threading

import pytest

from mockserver import CallLog, Fake, ImageInfo, RawRequest
from mockserver.core.vocabulary.journal import CallList

from ..support import GIF, PNG, SAVE_PATH, json_headers, save_body


def save(fake: Fake, **kwargs: object) -> int:
    body = save_body(**kwargs)  # type: ignore[arg-type]
    return fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=body)).status


def test_every_call_is_recorded_in_arrival_order_accepted_or_rejected() -> None:
    fake = Fake(first_id=33)
    assert save(fake) == 200
    assert save(fake, type_="Nope") == 400
    fake.process(RawRequest.build("GET", "/api/v1/Agents/BLOB/Unknown"))
    calls = fake.calls
    assert [c.seq for c in calls] == [1, 2, 3]
    assert [c.status for c in calls] == [200, 400, 404]
    assert [c.blob_id for c in calls] == [33, None, None]
    assert calls[1].violations[0].location == "body.Type"


def test_a_record_keeps_image_info_and_the_store_keeps_the_bytes_once() -> None:
    fake = Fake(first_id=5)
    save(fake, image=PNG)
    record = fake.calls.last
    assert record.image == ImageInfo.of(PNG)
    assert record.image is not None and record.image.format == "png"
    assert not any(isinstance(v, bytes) for v in record.request.values())
    assert fake.images[5] == PNG
    # The JSON form carries size, sha256 and format, never the bytes.
    sha = ImageInfo.of(PNG).sha256
    assert record.to_json()["request"]["image"] == {"size": len(PNG), "sha256": sha, "format": "png"}


def test_the_bound_drops_the_oldest_and_counts_them() -> None:
    fake = Fake(journal_limit=3)
    for _ in range(5):
        save(fake)
    assert [c.seq for c in fake.calls] == [3, 4, 5]
    assert fake.state.journal.dropped == 2
    assert fake.state.journal.get(2) is None
    assert fake.state.journal.get(4) is fake.calls[1]
    # Dropping records never drops images: blob ids 1..5 stay fetchable.
    assert sorted(fake.images) == [1, 2, 3, 4, 5]


def test_limit_zero_keeps_everything() -> None:
    fake = Fake(journal_limit=0)
    for _ in range(12):
        save(fake)
    assert len(fake.calls) == 12
    assert fake.state.journal.dropped == 0


def test_the_default_bound_is_ten_thousand() -> None:
    assert Fake().state.journal.limit == 10_000


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="0 \\(unbounded\\) or more"):
        CallLog(-1)


def test_clearing_keeps_counting_seq_and_reset_starts_again() -> None:
    fake = Fake(first_id=10)
    save(fake)
    save(fake)
    fake.state.journal.clear()
    save(fake)
    assert [c.seq for c in fake.calls] == [3]
    assert fake.calls.last.blob_id == 12
    fake.reset()
    assert len(fake.calls) == 0 and len(fake.images) == 0
    save(fake)
    assert fake.calls.last.seq == 1
    assert fake.calls.last.blob_id == 10


def test_since_returns_later_records_only() -> None:
    fake = Fake()
    for _ in range(4):
        save(fake)
    assert [c.seq for c in fake.state.journal.since(2)] == [3, 4]
    assert len(fake.state.journal.since(4)) == 0


def test_calllist_filters_and_properties() -> None:
    fake = Fake()
    save(fake, type_="PersonImage")
    save(fake, type_="ProjectImage", image=GIF)
    save(fake, type_="Nope")
    calls = fake.calls
    assert calls.count == 3 and calls.called
    assert calls.first.seq == 1 and calls.last.seq == 3
    assert [c.seq for c in calls.filter(type="projectimage")] == [2]
    assert [c.seq for c in calls.accepted] == [1, 2]
    assert [c.seq for c in calls.rejected] == [3]
    assert [c.seq for c in calls.filter(outcome="accepted", status=200)] == [1, 2]
    assert len(calls.filter(path=SAVE_PATH.lower())) == 3
    assert [c.seq for c in calls.filter(lambda c: c.image is not None and c.image.format == "gif")] == [2]
    assert isinstance(calls[1:], CallList) and len(calls[1:]) == 2
    with pytest.raises(ValueError, match="'accepted' or 'rejected'"):
        calls.filter(outcome="ok")


def test_last_of_an_empty_list_says_nothing_was_recorded() -> None:
    with pytest.raises(IndexError, match="no calls were recorded"):
        _ = Fake().calls.last


def test_headers_are_recorded_redacted() -> None:
    fake = Fake()
    save(fake)
    assert fake.calls.last.header("authorization") == "Basic <redacted>"
    assert fake.calls.last.header("content-type") == "application/json"


def test_wait_until_wakes_when_a_call_arrives_from_another_thread() -> None:
    fake = Fake()
    worker = threading.Thread(target=lambda: [save(fake) for _ in range(2)])
    worker.start()
    assert fake.state.journal.wait_until(lambda calls: len(calls) >= 2, timeout=10)
    worker.join()


def test_wait_until_reports_a_timeout() -> None:
    assert Fake().state.journal.wait_until(lambda calls: len(calls) >= 1, timeout=0.01) is False


def test_concurrent_calls_each_get_one_record_and_one_id() -> None:
    fake = Fake()
    threads = [threading.Thread(target=lambda: [save(fake) for _ in range(25)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c.seq for c in fake.calls) == list(range(1, 101))
    assert sorted(c.blob_id for c in fake.calls if c.blob_id is not None) == list(range(1, 101))
    assert all(fake.state.journal.get(seq) is not None for seq in range(1, 101))
