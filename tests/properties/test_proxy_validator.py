"""The proxy checks a request exactly as the fake does: for anything a client might send, its
validator draws the fake's status, violations and warnings (SaveImageStream refers to no blob, so
nothing here depends on the tenant's data)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mockserver import Fake
from mockserver.core.exchange import RawRequest
from mockserver.core.proxy.recorder import ProxyCore

from .mutations import anything
from .strategies import Request, budget

INSTALLATIONS = ("onsite", "online")
FAKES = {name: Fake(installation=name, journal_limit=1) for name in INSTALLATIONS}
PROXIES = {name: ProxyCore("https://sod.superoffice.com/Cust12345", installation=name) for name in INSTALLATIONS}


@budget(150)
@given(st.sampled_from(INSTALLATIONS).flatmap(lambda name: anything(name)))
def test_the_validator_answers_every_request_as_the_fake_does(req: Request) -> None:
    raw = RawRequest.build(req.method, req.path, headers=list(req.headers), body=req.body, query=req.query)
    theirs = FAKES[req.installation].process(raw).record
    mine = PROXIES[req.installation].validator.process(raw).record
    assert (mine.status, mine.violations, mine.warnings) == (theirs.status, theirs.violations, theirs.warnings)
    assert (mine.auth, mine.locale, mine.headers, mine.request) == (
        theirs.auth,
        theirs.locale,
        theirs.headers,
        theirs.request,
    )
