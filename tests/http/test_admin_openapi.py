"""GET /_openapi.json: valid OpenAPI 3.1, every registered /_ route described, real answers conforming."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from mockserver import Fake, ThreadedFakeServer
from mockserver.http.admin_openapi import DOCUMENT
from mockserver.http.app import build_app
from mockserver.http.debug import ROUTES

from ..support import PNG, json_headers, save_body

CATCH_ALL = {"/{tenant}/_{tail}", "/{tail}", "/favicon.ico"}


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"] == "3.1.0"


def test_every_registered_route_and_method_is_described_and_nothing_else() -> None:
    app = build_app(Fake(tenants="isolated"))
    # The login endpoints (/Login/..., /login/...) belong to the faked SuperOffice API, not the admin API.
    registered = {r.canonical for r in app.router.resources() if "/_" in r.canonical} - CATCH_ALL
    assert {r.canonical for r in app.router.resources()} - registered - CATCH_ALL == {
        "/Login/api/PartnerSystemUser/Authenticate",
        "/login/api/partnersystemuser/authenticate",
        "/login/common/oauth/tokens",
        "/login/.well-known/jwks",
    }
    assert "/_assert" in registered and "/{tenant}/_calls" in registered
    assert registered == set(DOCUMENT["paths"])
    for path in registered:
        methods = ROUTES[path.removeprefix("/{tenant}")]
        assert {m.lower() for m in methods} == set(DOCUMENT["paths"][path]), path


@pytest.fixture
def fake() -> Iterator[ThreadedFakeServer]:
    with ThreadedFakeServer(port=0, tenants="isolated") as served:
        yield served


def _schema_of(path: str, method: str, status: int, ctype: str) -> dict[str, Any]:
    responses = DOCUMENT["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, which is not described"
    content = responses[str(status)]["content"]
    media = ctype if ctype in content else next(k for k in content if re.fullmatch(k.replace("*", ".*"), ctype))
    return {**content[media]["schema"], "components": DOCUMENT["components"]}


def test_real_answers_validate_against_the_description(fake: ThreadedFakeServer) -> None:
    seen: set[tuple[str, str]] = set()

    def call(method: str, template: str, url_path: str, status: int, **kwargs: Any) -> requests.Response:
        resp = requests.request(method, fake.url + url_path, timeout=10, **kwargs)
        assert resp.status_code == status, resp.text
        ctype = resp.headers["Content-Type"].split(";")[0]
        schema = _schema_of(template, method.lower(), status, ctype)
        if ctype == "application/json":
            errors = list(Draft202012Validator(schema).iter_errors(resp.json()))
            assert not errors, f"{method} {url_path}: {errors[0].message} at {list(errors[0].path)}"
        seen.add((template, method.lower()))
        return resp

    for prefix, tenant in (("", ""), ("/Cust1", "/{tenant}")):
        save = requests.post(fake.url + prefix + "/api/v1/Agents/BLOB/SaveImageStream", timeout=10, **_save())
        assert save.status_code == 200
        requests.post(fake.url + prefix + "/api/v1/Agents/BLOB/SaveImageStream", timeout=10, **_save("Nope"))
        blob = save.text
        call("GET", f"{tenant}/_calls", f"{prefix}/_calls", 200)
        call("GET", f"{tenant}/_calls", f"{prefix}/_calls?since=5&wait=0.1", 200)
        call("GET", f"{tenant}/_calls", f"{prefix}/_calls?limit=0", 400)
        call("GET", f"{tenant}/_calls", f"{prefix}/_calls", 200, headers={"Accept": "text/html"})
        call("GET", f"{tenant}/_calls/{{seq}}", f"{prefix}/_calls/1", 200)
        call("GET", f"{tenant}/_calls/{{seq}}", f"{prefix}/_calls/99", 404)
        assert call("GET", f"{tenant}/_images/{{blob_id}}", f"{prefix}/_images/{blob}", 200).content == PNG
        call("GET", f"{tenant}/_images/{{blob_id}}", f"{prefix}/_images/99", 404)
        call("GET", f"{tenant}/_health", f"{prefix}/_health", 200)
        call("GET", f"{tenant}/_coverage", f"{prefix}/_coverage", 200)
        call("GET", f"{tenant}/_openapi.json", f"{prefix}/_openapi.json", 200)
        call("POST", f"{tenant}/_faults", f"{prefix}/_faults", 201, json={"kind": "status", "status": 503})
        call("POST", f"{tenant}/_faults", f"{prefix}/_faults", 400, json={"kind": "nope"})
        call("GET", f"{tenant}/_faults", f"{prefix}/_faults", 200)
        call("DELETE", f"{tenant}/_faults/{{id}}", f"{prefix}/_faults/1", 200)
        call("DELETE", f"{tenant}/_faults/{{id}}", f"{prefix}/_faults/1", 404)
        call("DELETE", f"{tenant}/_faults", f"{prefix}/_faults", 200)
        call("POST", f"{tenant}/_assert", f"{prefix}/_assert", 200, json={"assert_saved": {"type": "PersonImage"}})
        call("POST", f"{tenant}/_assert", f"{prefix}/_assert", 409, json={"assert_no_violations": {}})
        call("POST", f"{tenant}/_assert", f"{prefix}/_assert", 400, json={"assert_saved": {"nope": 1}})
        call("GET", f"{tenant}/_clock", f"{prefix}/_clock", 200)
        call("POST", f"{tenant}/_clock", f"{prefix}/_clock", 200, json={"advance_s": 60})
        call("POST", f"{tenant}/_clock", f"{prefix}/_clock", 400, json={"advance_s": "soon"})
        consent = {"context": "Cust1", "client_id": "app"}
        call("POST", f"{tenant}/_oauth/consent", f"{prefix}/_oauth/consent", 200, json=consent)
        call("POST", f"{tenant}/_oauth/consent", f"{prefix}/_oauth/consent", 400, json=[])
        call("GET", f"{tenant}/_credentials", f"{prefix}/_credentials", 200)
        check = f"{prefix}/_credentials/assert"
        call("POST", f"{tenant}/_credentials/assert", check, 200, json={"check": "authenticated", "times": 0})
        call("POST", f"{tenant}/_credentials/assert", check, 409, json={"check": "authenticated", "times": 3})
        call("POST", f"{tenant}/_credentials/assert", check, 400, json={"check": "nope"})
        # Online mode's routes, on a fake that is not in Online mode: a 404 that says how to turn it on.
        call("GET", f"{tenant}/_tenants", f"{prefix}/_tenants", 404)
        call("GET", f"{tenant}/_tenants/{{ctx}}", f"{prefix}/_tenants/Cust1", 404)
        call("POST", f"{tenant}/_tenants/{{ctx}}/move", f"{prefix}/_tenants/Cust1/move", 404, json={"host": "sod3"})
        state = {"state": "Running"}
        call("POST", f"{tenant}/_tenants/{{ctx}}/state", f"{prefix}/_tenants/Cust1/state", 404, json=state)
        call("GET", f"{tenant}/_notifications", f"{prefix}/_notifications", 404)
        call("POST", f"{tenant}/_notifications", f"{prefix}/_notifications", 404, json={"url": "http://127.0.0.1:9/"})
        call("DELETE", f"{tenant}/_calls", f"{prefix}/_calls", 200)
        call("POST", f"{tenant}/_reset", f"{prefix}/_reset", 200)
    described = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert seen == described


def test_the_served_document_is_the_description(fake: ThreadedFakeServer) -> None:
    assert requests.get(fake.url + "/_openapi.json", timeout=10).json() == DOCUMENT


def _save(type_: str = "PersonImage") -> dict[str, Any]:
    return {"data": save_body(type_=type_), "headers": json_headers()}


# ---- schemathesis: generated requests, every answer conforming -----------------------------

# The fuzzer's copy waits at most 0.05 s, so a run takes seconds rather than the 30 s a wait may ask for.
FUZZED = copy.deepcopy(DOCUMENT)
FUZZED["components"]["schemas"]["AssertRequest"] = copy.deepcopy(DOCUMENT["components"]["schemas"]["AssertRequest"])
for _option in FUZZED["components"]["schemas"]["AssertRequest"]["oneOf"]:
    _option["properties"]["wait"]["maximum"] = 0.05
for _item in FUZZED["paths"].values():
    for _op in _item.values():
        for _param in _op.get("parameters", []):
            if _param["name"] == "wait":
                _param["schema"] = {"type": "number", "minimum": 0, "maximum": 0.05}
SCHEMA = schemathesis.openapi.from_dict(FUZZED)


@pytest.fixture(scope="module")
def live() -> Iterator[ThreadedFakeServer]:
    with ThreadedFakeServer(port=0, tenants="isolated", journal_limit=200) as served:
        for _ in range(3):
            requests.post(served.api_url, timeout=10, **_save())
        yield served


@SCHEMA.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_get_described_answers(case: Any, live: ThreadedFakeServer) -> None:
    case.call_and_validate(
        base_url=live.url, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )
