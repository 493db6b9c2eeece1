"""`precheck` (the header steps before any body byte) never changes an answer, only when it is given.

For any request: either precheck says the body matters and journals nothing, or its answer and
record are exactly what `Fake.process` gives the same request with its body.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mockserver import Fake
from mockserver.core.exchange import RawRequest
from mockserver.core.vocabulary.records import CallRecord

from .mutations import any_requests
from .strategies import budget

INSTALLATIONS = ("onsite", "online")
# Two fakes per installation: one sees only the heads (precheck), the other whole requests.
HEADS = {name: Fake(installation=name, journal_limit=0) for name in INSTALLATIONS}
WHOLE = {name: Fake(installation=name, journal_limit=0) for name in INSTALLATIONS}
STRICT_HEADS = {name: Fake(installation=name, journal_limit=0, strict=True) for name in INSTALLATIONS}
STRICT_WHOLE = {name: Fake(installation=name, journal_limit=0, strict=True) for name in INSTALLATIONS}


def comparable(record: CallRecord) -> dict[str, object]:
    out = record.to_json()
    for varying in ("seq", "time", "blob_id"):
        out.pop(varying, None)
    return out


@st.composite
def requests(draw: st.DrawFn, installation: str) -> tuple[str, RawRequest, RawRequest]:
    kind, req = draw(any_requests(installation))
    head = RawRequest.build(req.method, req.path, headers=list(req.headers), query=req.query)
    whole = RawRequest.build(req.method, req.path, headers=list(req.headers), body=req.body, query=req.query)
    return kind, head, whole


@budget(300)
@given(installation=st.sampled_from(INSTALLATIONS), strict=st.booleans(), data=st.data())
def test_precheck_answers_only_what_the_body_cannot_change(
    installation: str, strict: bool, data: st.DataObject
) -> None:
    heads = (STRICT_HEADS if strict else HEADS)[installation]
    whole = (STRICT_WHOLE if strict else WHOLE)[installation]
    _kind, head, full = data.draw(requests(installation), label="request")
    before = heads.state.journal.total

    early = heads.precheck(head)
    answer = whole.process(full)

    if early is None:
        assert heads.state.journal.total == before  # nothing journaled: the body's turn
        return
    assert heads.state.journal.total == before + 1
    assert (early.status, early.body, early.content_type, early.headers) == (
        answer.status,
        answer.body,
        answer.content_type,
        answer.headers,
    )
    assert comparable(early.record) == comparable(answer.record)


def test_precheck_leaves_a_valid_request_to_its_body() -> None:
    fake = Fake()
    head = RawRequest.build(
        "POST",
        "/api/v1/Agents/BLOB/SaveImageStream",
        headers={"Authorization": "Basic dGplMDpUamUw", "Content-Type": "application/json"},
    )
    assert fake.precheck(head) is None
    assert fake.precheck(head) is None  # the cached header set too
    assert fake.state.journal.total == 0


def test_precheck_checks_credentials_against_the_store() -> None:
    fake = Fake(credentials={"users": {"tje0": "Tje0"}})
    right = {"Authorization": "Basic dGplMDpUamUw", "Content-Type": "application/json"}
    wrong = {"Authorization": "Basic dGplMDpXcm9uZw==", "Content-Type": "application/json"}
    path = "/api/v1/Agents/BLOB/SaveImageStream"
    assert fake.precheck(RawRequest.build("POST", path, headers=right)) is None
    fake.process(RawRequest.build("POST", path, headers=right, body=b"{}"))  # caches the header set
    assert fake.precheck(RawRequest.build("POST", path, headers=right)) is None
    refused = fake.precheck(RawRequest.build("POST", path, headers=wrong))
    assert refused is not None and refused.status == 401
    assert [c.status for c in fake.calls] == [400, 401]
