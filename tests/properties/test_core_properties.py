"""The fake's promise, as properties over the pure core (`Fake.process`, no sockets).

Valid in → the next id out and a faithful record; any single mutation → the right 4xx naming
the mutated part, checked against an independent oracle; anything at all → never a 5xx, one
record per request, and an answer that parses in the negotiated format.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mockserver import Fake
from mockserver.core.exchange import Outcome, RawRequest

from .mutations import AREAS, anything, mutated_requests
from .oracle import judge, parse_answer, response_media, violation_locations
from .strategies import SAVE_PATH, Request, Save, budget, passwords, request_for, saves, users, valid_requests

INSTALLATIONS = ("onsite", "online")
# One long-lived fake per installation: ids must keep counting up across every example.
FAKES = {name: Fake(installation=name, journal_limit=0, first_id=33) for name in INSTALLATIONS}
installations = st.sampled_from(INSTALLATIONS)
BEARER = ("Authorization", "Bearer 8A:Cust12345.token")


def send(fake: Fake, req: Request) -> Outcome:
    raw = RawRequest.build(req.method, req.path, headers=list(req.headers), body=req.body, query=req.query)
    return fake.process(raw)


def check_answer(req: Request, out: Outcome) -> object:
    """Property 5: the answer parses in the negotiated format (the oracle negotiates on its own)."""
    if req.method == "HEAD":
        return None
    assert out.content_type is not None
    assert out.content_type.split(";")[0] == response_media(req), (out.content_type, req.header("Accept"))
    return parse_answer(out.body, out.content_type)


def check_record_matches(fake: Fake, blob_id: int, save: Save) -> None:
    record = fake.calls.last
    assert record.blob_id == blob_id
    assert (record.type, record.description) == (save.type, save.description)
    assert record.image is not None
    assert (record.image.size, record.image.sha256) == (len(save.image), hashlib.sha256(save.image).hexdigest())
    assert fake.images[blob_id] == save.image


@budget(400)
@given(installation=installations, data=st.data())
def test_property1_valid_request_is_accepted_with_the_next_id(installation: str, data: st.DataObject) -> None:
    fake = FAKES[installation]
    save, req = data.draw(valid_requests(installation), label="request")
    expected = fake.next_id
    count = fake.state.journal.total
    assert judge(req).save == save, "the oracle disagrees with the strategy about what this request means"

    out = send(fake, req)

    assert out.status == 200, out.body.decode(errors="replace")
    assert check_answer(req, out) == expected
    assert fake.next_id == expected + 1
    assert fake.state.journal.total == count + 1
    check_record_matches(fake, expected, save)


@budget(150)
@given(installation=installations, save=saves(), data=st.data())
def test_property2_equivalent_encodings_produce_the_same_record(
    installation: str, save: Save, data: st.DataObject
) -> None:
    fake = FAKES[installation]
    records = []
    for family in ("json", "xml", "form", None):
        req = data.draw(request_for(save, installation, family), label=f"as {family or 'any'}")
        out = send(fake, req)
        assert out.status == 200, (family, out.body)
        r = out.record
        assert r.image is not None
        records.append((r.type, r.description, r.image.sha256, r.image.size, r.image.format))
    assert len(set(records)) == 1, records
    assert records[0][:3] == (save.type, save.description, hashlib.sha256(save.image).hexdigest())


@pytest.mark.parametrize("area", AREAS)
@budget(250)
@given(installation=installations, data=st.data())
def test_property3_any_single_mutation_is_rejected_without_using_an_id(
    area: str, installation: str, data: st.DataObject
) -> None:
    fake = FAKES[installation]
    req, mutation = data.draw(mutated_requests(installation, area), label="mutated")
    event(f"{mutation.status} {mutation.part}")
    verdict = judge(req)
    next_id = fake.next_id
    count = fake.state.journal.total

    out = send(fake, req)

    answer = check_answer(req, out)
    locations = violation_locations(answer)
    assert out.status == verdict.status, (mutation, out.status, verdict, answer)
    if mutation.status is not None:
        assert out.status == mutation.status, (mutation, answer)
    assert any(loc.lower().startswith(mutation.part.lower()) for loc in locations), (mutation, locations)
    assert verdict.explains(locations), f"oracle expected {set(verdict.locations)}, fake named {locations}"
    assert only_expected(verdict.locations, locations), (verdict, locations)
    assert fake.next_id == next_id, "a rejected request consumed an id"
    assert fake.state.journal.total == count + 1
    assert out.record.blob_id is None and out.record.status == out.status and out.record.violations


def only_expected(expected: frozenset[str], named: list[str]) -> bool:
    """Every location the fake names is one the oracle expects (or a detail below it)."""
    wanted = [e.lower() for e in expected]
    return all(any(n.lower() == w or n.lower().startswith(w + ".") for w in wanted) for n in named)


@budget(1200)
@given(installation=installations, data=st.data())
def test_property4_and_5_nothing_a_client_sends_yields_5xx(installation: str, data: st.DataObject) -> None:
    fake = FAKES[installation]
    req = data.draw(anything(installation), label="request")
    count, next_id = fake.state.journal.total, fake.next_id

    out = send(fake, req)

    assert out.status < 500, out.body
    assert fake.state.journal.total == count + 1
    assert out.record.status == out.status
    verdict = judge(req)
    assert out.status == verdict.status, (out.status, verdict, out.body[:300])
    answer = check_answer(req, out)
    if out.status == 200 and req.method == "POST":
        assert answer == next_id and fake.next_id == next_id + 1
    else:
        assert fake.next_id == next_id


@pytest.mark.parametrize("installation", INSTALLATIONS)
def test_oracle_and_fake_agree_on_the_documented_examples(installation: str) -> None:
    """The contract's own examples, judged by both: a cheap guard that the oracle is not vacuous."""
    fake = Fake(installation=installation)
    auth = ("Authorization", "Bearer 8A:Cust12345.token")
    examples = fake.contracts.named("SaveImageStream").examples
    assert examples, "the contract documents examples"
    for example in examples:
        req = Request(
            "POST",
            "/api/v1/Agents/BLOB/SaveImageStream",
            (("Content-Type", "application/json"), auth),
            json.dumps(dict(example.body)).encode(),
            installation=installation,
        )
        assert judge(req).status == example.status == send(fake, req).status, example.name


# ---- regressions found by the properties above ------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "location"),
    [
        ((("X-XSRF-TOKEN", "abc"), ("Cookie", "XSRF-TOKEN=abd")), "header.X-XSRF-TOKEN"),
        ((("X-XSRF-TOKEN", "abc"),), "header.X-XSRF-TOKEN"),
        ((("X-XSRF-TOKEN", ""), ("Cookie", "XSRF-TOKEN=abc")), "header.X-XSRF-TOKEN"),
        ((("Cookie", "XSRF-TOKEN=abc"),), "header.Authorization"),
    ],
)
def test_regression_a_bad_xsrf_token_is_named_not_authorization(
    headers: tuple[tuple[str, str], ...], location: str
) -> None:
    """Found by property 3: a mismatched XSRF token was reported at header.Authorization."""
    req = Request(
        "POST", "/api/v1/Agents/BLOB/SaveImageStream", (("Content-Type", "application/json"), *headers), b"{}"
    )
    out = send(Fake(), req)
    assert out.status == 401
    assert [v.location for v in out.record.violations] == [location]


base64ish = st.text(st.sampled_from("AQgw+/=  \n\t-_!é"), max_size=16) | st.binary(max_size=12).map(
    lambda b: base64.b64encode(b).decode()
)


@st.composite
def edited_base64(draw: st.DrawFn, data: bytes) -> str:
    """base64 of `data`, sometimes with one edit .NET's decoder refuses and Python's may not."""
    text = base64.b64encode(data).decode()
    at = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["", "=", "==", "===", "====", "A", "AB", "!", "-", "_"]))
    return draw(st.sampled_from([text, text + edit, text[:at] + edit + text[at:], text.rstrip("=")]))


def basic_credentials() -> st.SearchStrategy[str]:
    return st.tuples(users, passwords).flatmap(lambda up: edited_base64(f"{up[0]}:{up[1]}".encode()))


@budget(400)
@given(text=base64ish | st.binary(max_size=12).flatmap(edited_base64))
def test_property3_image_base64_rules_agree_with_the_oracle(text: str) -> None:
    """Differential on .NET's Convert.FromBase64String rules: padding required, whitespace skipped."""
    req = Request(
        "POST", SAVE_PATH, (("Content-Type", "application/json"), BEARER), json.dumps({"Image": text}).encode()
    )
    verdict, out = judge(req), send(FAKES["onsite"], req)
    assert out.status == verdict.status, (text, out.body)
    if verdict.save is not None:
        assert FAKES["onsite"].images[out.record.blob_id] == verdict.save.image


@budget(400)
@given(text=base64ish | basic_credentials())
def test_property3_basic_credentials_base64_rules_agree_with_the_oracle(text: str) -> None:
    req = Request(
        "POST",
        SAVE_PATH,
        (("Content-Type", "application/json"), ("Authorization", f"Basic {text}")),
        json.dumps({"Image": ""}).encode(),
    )
    assert send(FAKES["onsite"], req).status == judge(req).status, text


@pytest.mark.parametrize(
    ("credentials", "status"),
    [
        ("dGplMDpUamUw", 200),
        ("dGplMDpUamUw=", 401),
        ("dGplMDpUamUw====", 401),
        ("dGplMDpUamU=", 200),
        ("dGpl MDpUamUw", 200),
    ],
)
def test_regression_basic_credentials_follow_dotnet_base64(credentials: str, status: int) -> None:
    """Found by the Basic differential: Python's decoder accepted 'dGplMDpUamUw=', .NET refuses it."""
    headers = (("Content-Type", "application/json"), ("Authorization", f"Basic {credentials}"))
    assert send(Fake(), Request("POST", SAVE_PATH, headers, b'{"Image": ""}')).status == status
