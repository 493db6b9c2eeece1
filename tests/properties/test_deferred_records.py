"""A record built when someone first reads it is the record building it at once would give.

The journal keeps each call's facts (`exchange.CallFacts`) and builds the `CallRecord` on the
first read. Two fakes see the same requests: one has a listener, so every record is built as
the call is journaled (the eager way); the other is read only after all its calls, after the
header cache, ids and images have moved on. Their records must agree on every field but the
time of arrival, for accepted and rejected calls alike.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver import Fake
from mockserver.core.exchange import CallFacts, RawRequest
from mockserver.core.vocabulary.records import CallRecord

from .mutations import any_requests
from .strategies import budget

INSTALLATIONS = ("onsite", "online")


def comparable(record: CallRecord) -> dict[str, Any]:
    out = record.to_json()
    out.pop("time")
    return out


@st.composite
def raw_requests(draw: st.DrawFn, installation: str) -> RawRequest:
    _kind, req = draw(any_requests(installation))
    return RawRequest.build(req.method, req.path, headers=list(req.headers), body=req.body, query=req.query)


def copy(raw: RawRequest) -> RawRequest:
    """Each fake gets its own request: decoding empties a bytearray body."""
    return RawRequest.build(
        raw.method, raw.path, headers=list(raw.headers.items()), body=bytes(raw.body), query=raw.query_string
    )


@budget(150)
@given(
    installation=st.sampled_from(INSTALLATIONS),
    strict=st.booleans(),
    data=st.data(),
)
def test_a_record_built_on_first_read_equals_the_one_built_at_once(
    installation: str, strict: bool, data: st.DataObject
) -> None:
    eager = Fake(installation=installation, strict=strict)
    deferred = Fake(installation=installation, strict=strict)
    built_at_once: list[CallRecord] = []
    eager.state.journal.subscribe(built_at_once.append)
    requests = data.draw(st.lists(raw_requests(installation), min_size=1, max_size=6), label="requests")

    outcomes = []
    for raw in requests:
        eager.process(copy(raw))
        outcomes.append(deferred.process(copy(raw)))
    entries = list(deferred.state.journal._records)
    assert all(type(e) is CallFacts and e._record is None for e in entries), "nothing read yet: nothing built"

    read_later = list(deferred.calls)
    assert [comparable(r) for r in read_later] == [comparable(r) for r in built_at_once]
    assert [r.seq for r in read_later] == list(range(1, len(requests) + 1))
    # Built once: the outcome, a second read and the entry hand out the very same record.
    for outcome, record in zip(outcomes, read_later, strict=True):
        assert outcome.record is record
    assert all(a is b for a, b in zip(deferred.calls, read_later, strict=True))
    # Once read, each record has taken its entry's place: the facts are let go.
    assert all(type(e) is CallRecord for e in deferred.state.journal._records)


def test_the_state_file_gets_records_built_as_they_are_written(tmp_path: Any) -> None:
    """With --state the journal writes each record as it is added, so the entry is built at once."""
    fake = Fake(state=tmp_path / "state.sqlite")
    try:
        raw = RawRequest.build(
            "POST",
            "/api/v1/Agents/BLOB/SaveImageStream",
            headers={"Authorization": "Basic dGplMDpUamUw", "Content-Type": "application/json"},
            body=b'{"Type": "PersonImage", "Image": "R0lGODlhAQABAAAAACw="}',
        )
        outcome = fake.process(raw)
        entry = fake.state.journal._records[-1]
        assert type(entry) is CallRecord  # the file's copy and the journal's are one built record
        assert outcome.record is entry
    finally:
        fake.release()
    reopened = Fake(state=tmp_path / "state.sqlite")
    try:
        assert comparable(reopened.calls.last) == comparable(outcome.record)
    finally:
        reopened.release()
