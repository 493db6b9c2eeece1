"""The OpenAPI export: a valid 3.1 document, faithful to SuperOffice's, and the fake conforms to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockserver import ThreadedFakeServer
from mockserver.core.loader import load_contracts
from mockserver.tools.cli import main
from mockserver.tools.openapi import build_document, request_schema_name

from ..support import BASIC

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "openapi-v3-BLOBAgent.json"
DOCUMENT = build_document(load_contracts())


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, name = node["$ref"].split("/")
        node = doc["components"]["schemas"][name]
    return node


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not REFERENCE.is_file():
        pytest.skip(f"SuperOffice's OpenAPI is not beside the checkout ({REFERENCE})")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"] == "3.1.0"
    assert set(DOCUMENT["components"]["securitySchemes"]) == {"basic", "bearer", "soTicket", "xsrf"}


def test_cli_writes_the_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == DOCUMENT
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == DOCUMENT


def test_save_image_stream_matches_superoffice(reference: dict[str, Any]) -> None:
    path = "/api/v1/Agents/BLOB/SaveImageStream"
    ours, theirs = DOCUMENT["paths"][path]["post"], reference["paths"][path]["post"]
    assert ours["operationId"] == theirs["operationId"] == "v1BLOBAgent_SaveImageStream"
    assert list(ours["requestBody"]["content"]) == list(theirs["requestBody"]["content"])
    assert list(ours["responses"]["200"]["content"]) == list(theirs["responses"]["200"]["content"])
    for mtype, item in theirs["responses"]["200"]["content"].items():
        assert ours["responses"]["200"]["content"][mtype]["schema"]["format"] == item["schema"]["format"] == "int32"
    our_schema = _resolve(DOCUMENT, ours["requestBody"]["content"]["application/json"]["schema"])
    their_schema = _resolve(reference, theirs["requestBody"]["content"]["application/json"]["schema"])
    assert list(our_schema["properties"]) == list(their_schema["properties"])
    names = our_schema["properties"]["Type"]["anyOf"][0]
    assert names["enum"] == their_schema["properties"]["Type"]["enum"]
    assert our_schema["properties"]["Image"]["format"] == their_schema["properties"]["Image"]["format"] == "byte"


@pytest.mark.parametrize("name", ["ChangePersonImage", "ChangeProjectImage", "GetBlobStream"])
def test_companion_calls_match_superoffice_requests(reference: dict[str, Any], name: str) -> None:
    path = f"/api/v1/Agents/BLOB/{name}"
    ours, theirs = DOCUMENT["paths"][path]["post"], reference["paths"][path]["post"]
    assert ours["operationId"] == theirs["operationId"]
    assert list(ours["requestBody"]["content"]) == list(theirs["requestBody"]["content"])
    their_schema = _resolve(reference, theirs["requestBody"]["content"]["application/json"]["schema"])
    our_schema = DOCUMENT["components"]["schemas"][request_schema_name(load_contracts().named(name))]
    assert list(our_schema["properties"]) == list(their_schema["properties"])
    assert {k: v["format"] for k, v in our_schema["properties"].items()} == {
        k: v["format"] for k, v in their_schema["properties"].items()
    }
    their_ok = next(code for code in theirs["responses"] if code.startswith("2"))
    assert their_ok in ours["responses"]
    # GetBlobStream: SuperOffice lists octet-stream (and pdf, text/plain, ...); the fake serves octet-stream
    # plus the JSON/XML base64 forms. Every type both list must be there.
    theirs_types = set(theirs["responses"][their_ok].get("content", {}))
    ours_types = set(ours["responses"][their_ok].get("content", {}))
    assert theirs_types & {"application/octet-stream"} <= ours_types


def test_every_documented_error_carries_the_error_schema() -> None:
    errors = [
        (code, response)
        for item in DOCUMENT["paths"].values()
        for code, response in item["post"]["responses"].items()
        if int(code) >= 400
    ]
    assert len(errors) >= len(DOCUMENT["paths"]), "every operation documents its errors"
    for code, response in errors:
        schemas = {c["schema"]["$ref"] for c in response["content"].values()}
        assert schemas == {"#/components/schemas/SuperOffice.WebApi.Error"}, code


# ---- schemathesis against a running fake --------------------------------------------------

SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def live_fake() -> Iterator[ThreadedFakeServer]:
    with ThreadedFakeServer(port=0, journal_limit=1000) as fake:
        yield fake


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_fake_conforms_to_its_exported_document(case: Any, live_fake: ThreadedFakeServer) -> None:
    case.call_and_validate(base_url=live_fake.url, headers={"Authorization": BASIC}, checks=CHECKS)


def test_schemathesis_reaches_every_operation() -> None:
    """Cases generated from the document alone reach every operation, accepted and refused (on a fake of its own)."""
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    assert len(operations) == len(DOCUMENT["paths"])
    with ThreadedFakeServer(port=0) as fake:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
            def send(case: Any) -> None:
                case.call(base_url=fake.url, headers={"Authorization": BASIC})

            send()
        report = fake.coverage()
        statuses = {c.status for c in fake.calls}
    assert report["operations"]["never"] == []
    assert any(200 <= s < 300 for s in statuses) and 400 in statuses
