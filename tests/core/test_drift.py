"""Drift, without sockets: each kind found in an upstream answer, the verdict compared with the fake's,
the validator that checks requests exactly as the fake does, and the record the proxy journals."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from multidict import CIMultiDict

from mockserver import ConfigError, Fake
from mockserver.core.body.codecs import encode_error, encode_int
from mockserver.core.exchange import RawRequest
from mockserver.core.loader import load_contracts
from mockserver.core.proxy.drift import UpstreamAnswer, check_answer
from mockserver.core.proxy.recorder import ProxyCore, Upstream, scrub, secrets_of
from mockserver.core.proxy.shapes import ERROR_SHAPE, KINDS
from mockserver.core.vocabulary.contract import ContractSet
from mockserver.core.vocabulary.errors import ApiError, Violation

from ..support import BASIC, GIF, PNG, SAVE_PATH, SERIALIZATION_NS, b64, save_body, xml_body

CONTRACTS: ContractSet = load_contracts()
SAVE = CONTRACTS.named("SaveImageStream")
CHANGE = CONTRACTS.named("ChangePersonImage")
GET_BLOB = CONTRACTS.named("GetBlobStream")
ERROR_NS = "http://schemas.datacontract.org/2004/07/SuperOffice.WebApi"
SO_ERROR = ApiError(400, [Violation("body.Image", "base64", "nothing")])


def answer(
    status: int = 200, body: bytes = b"33", ctype: str | None = "application/json", **headers: str
) -> UpstreamAnswer:
    sent = CIMultiDict({k.replace("_", "-"): v for k, v in headers.items()})
    if ctype is not None:
        sent["Content-Type"] = ctype
    return UpstreamAnswer(status, sent, body)


def drift(contract: Any, got: UpstreamAnswer, fake_status: int = 200, method: str = "POST") -> list[tuple[str, ...]]:
    return [(d.kind, d.location, d.got) for d in check_answer(contract, method, got, fake_status).drift]


GOOD = [
    (SAVE, answer(body=b"33"), 200),
    (SAVE, answer(body=b"2147483647", ctype="text/json; charset=utf-8"), 200),
    (SAVE, answer(body=encode_int(33, "xml"), ctype="application/xml; charset=utf-8"), 200),
    (SAVE, answer(400, encode_error(SO_ERROR.body(), "json")), 400),
    (SAVE, answer(400, encode_error(SO_ERROR.body(), "xml"), "text/xml"), 400),
    (SAVE, answer(401, encode_error(SO_ERROR.body(), "json"), WWW_Authenticate='Basic realm="x"'), 200),
    (SAVE, answer(405, encode_error(SO_ERROR.body(), "json"), Allow="POST"), 405),
    (SAVE, answer(507, encode_error(SO_ERROR.body(), "json")), 200),
    (CHANGE, answer(204, b"", None), 204),
    (CHANGE, answer(400, encode_error(SO_ERROR.body(), "json")), 204),  # an unknown blob: the tenant's data
    (GET_BLOB, answer(body=PNG, ctype="application/octet-stream"), 200),
    (GET_BLOB, answer(body=json.dumps(base64.b64encode(GIF).decode()).encode()), 200),
    (GET_BLOB, answer(body=f'<base64Binary xmlns="{SERIALIZATION_NS}">{b64(GIF)}</base64Binary>'.encode(),
                      ctype="application/xml"), 200),
    (GET_BLOB, answer(404, encode_error(SO_ERROR.body(), "json")), 200),
    (SAVE, answer(body=gzip.compress(b"33"), Content_Encoding="gzip"), 200),
]  # fmt: skip


@pytest.mark.parametrize(("contract", "got", "fake_status"), GOOD)
def test_answers_the_contract_describes_show_no_drift(contract: Any, got: UpstreamAnswer, fake_status: int) -> None:
    assert drift(contract, got, fake_status) == []


WRONG = [
    (SAVE, answer(302, b"", None, Location="/login"), 200, [("status", "status", "302")]),
    (SAVE, answer(201), 200, [("status", "status", "201")]),
    (SAVE, answer(body=b'"33"'), 200, [("result", "body", "string '33'")]),
    (SAVE, answer(body=b"true"), 200, [("result", "body", "boolean true")]),
    (SAVE, answer(body=b"33.5"), 200, [("result", "body", "number 33.5")]),
    (SAVE, answer(body=b"2147483648"), 200, [("result", "body", "2147483648 (out of the int32 range)")]),
    (SAVE, answer(body=b"thirty"), 200, [("result", "body", "'thirty' (not JSON)")]),
    (SAVE, answer(body=b"33", ctype=None), 200, [("media_type", "header.Content-Type", "no Content-Type")]),
    (SAVE, answer(body=b"33", ctype="text/plain"), 200, [("media_type", "header.Content-Type", "text/plain")]),
    (SAVE, answer(body=b"33", ctype="json"), 200,
     [("media_type", "header.Content-Type", "'json': 'json' is not a type/subtype media type")]),
    (SAVE, answer(body=b"<int>33</int>", ctype="application/xml"), 200,
     [("xml_namespace", "body", "<int> without a namespace")]),
    (SAVE, answer(body=f'<long xmlns="{SERIALIZATION_NS}">33</long>'.encode(), ctype="application/xml"), 200,
     [("result", "body", "<long>")]),
    (SAVE, answer(body=f'<int xmlns="{SERIALIZATION_NS}">x</int>'.encode(), ctype="application/xml"), 200,
     [("result", "body", "text 'x'")]),
    (SAVE, answer(body=b"<int", ctype="application/xml"), 200,
     [("result", "body", "'<int' (not well-formed XML)")]),
    (CHANGE, answer(204, b"{}", None), 204, [("result", "body", "2 bytes")]),
    (GET_BLOB, answer(body=b'"not base64!"'), 200, [("result", "body", "'not base64!'")]),
    (GET_BLOB, answer(body=b"[1]"), 200, [("result", "body", "array of 1")]),
    (SAVE, answer(400, b'{"Message": "no"}'), 400,
     [("error_body", "body", "an object with Error missing, ErrorType missing, ErrorSource missing")]),
    (SAVE, answer(400, b'{"Error": "yes", "ErrorType": 1, "Message": "m", "ErrorSource": "s"}'), 400,
     [("error_body", "body", "an object with Error string 'yes', ErrorType number 1")]),
    (SAVE, answer(400, b""), 400, [("error_body", "body", "no body")]),
    (SAVE, answer(400, b"[]"), 400, [("error_body", "body", "array of 0")]),
    (SAVE, answer(400, b"<WebApiError><Error>true</Error></WebApiError>", "application/xml"), 400,
     [("xml_namespace", "body", "<WebApiError> without a namespace")]),
    (SAVE, answer(400, f'<WebApiError xmlns="{ERROR_NS}"><Error>1</Error></WebApiError>'.encode(), "text/xml"), 400,
     [("error_body", "body", "an element with Error '1', ErrorType missing, Message missing, ErrorSource missing")]),
    (SAVE, answer(400, b"<Problem/>", "application/xml"), 400, [("error_body", "body", "<Problem>")]),
    (SAVE, answer(400, b"no", "text/plain"), 400,
     [("media_type", "header.Content-Type", "text/plain"), ("error_body", "body", "a text/plain body 'no'")]),
    (SAVE, answer(401, encode_error(SO_ERROR.body(), "json")), 200, [("header", "header.WWW-Authenticate", "none")]),
    (SAVE, answer(405, encode_error(SO_ERROR.body(), "json")), 405, [("header", "header.Allow", "none")]),
    (SAVE, answer(200), 400, [("verdict", "status", "200, the request accepted")]),
    (SAVE, answer(415, encode_error(SO_ERROR.body(), "json")), 400, [("verdict", "status", "415")]),
    (SAVE, answer(400, encode_error(SO_ERROR.body(), "json")), 200,
     [("verdict", "status", "400, the request refused")]),
    (SAVE, answer(503, encode_error(SO_ERROR.body(), "json"), Retry_After="5"), 200, [("status", "status", "503")]),
]  # fmt: skip


@pytest.mark.parametrize(("contract", "got", "fake_status", "expected"), WRONG)
def test_each_departure_from_the_contract_is_one_drift_of_its_kind(
    contract: Any, got: UpstreamAnswer, fake_status: int, expected: list[tuple[str, ...]]
) -> None:
    assert drift(contract, got, fake_status) == expected
    assert all(kind in KINDS for kind, *_ in expected)


def test_a_drift_says_what_was_expected() -> None:
    (found,) = check_answer(SAVE, "POST", answer(body=b'"33"'), 200).drift
    assert found.expected == "an int32 such as 33"
    assert found.message == "body: expected an int32 such as 33, got string '33'"
    assert found.violation == Violation("body", "an int32 such as 33", "string '33'")
    (shape,) = check_answer(SAVE, "POST", answer(400, b"{}"), 400).drift
    assert shape.expected == ERROR_SHAPE


def test_the_verdict_allows_a_tenant_to_check_credentials_first() -> None:
    assert drift(SAVE, answer(401, encode_error(SO_ERROR.body(), "json"), WWW_Authenticate="Basic"), 400) == []
    assert drift(SAVE, answer(403, encode_error(SO_ERROR.body(), "json")), 415) == [("status", "status", "403")]


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT"])
def test_only_the_contracts_own_method_is_compared(method: str) -> None:
    assert drift(SAVE, answer(302, b"", None), 200, method) == []
    assert drift(None, answer(302, b"", None), 404) == []


def test_a_body_in_an_encoding_it_cannot_undo_is_not_read() -> None:
    found = check_answer(SAVE, "POST", answer(body=b"\x00", Content_Encoding="br"), 200)
    assert (found.drift, found.result) == ((), None)
    assert check_answer(SAVE, "POST", answer(body=b"junk", Content_Encoding="gzip"), 200).drift == ()


def test_the_result_read_is_the_id_or_what_the_bytes_are() -> None:
    assert check_answer(SAVE, "POST", answer(body=b"33"), 200).result == 33
    assert check_answer(SAVE, "POST", answer(body=b"33"), 200).media_type == "application/json"
    info = check_answer(GET_BLOB, "POST", answer(body=PNG, ctype="application/octet-stream"), 200).result
    assert info["size"] == len(PNG) and info["format"] == "png"


# ---- the upstream URL and secrets -----------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "raw_path", "url"),
    [
        ("https://sod.superoffice.com/Cust12345/", SAVE_PATH, f"https://sod.superoffice.com/Cust12345{SAVE_PATH}"),
        ("https://h/Cust1", f"/Cust99{SAVE_PATH}?$select=a%20b", f"https://h/Cust1{SAVE_PATH}?$select=a%20b"),
        ("http://h:8000", "/SuperOffice/API/v1/x%2Fy?q", "http://h:8000/API/v1/x%2Fy?q"),
        ("http://h", "/_other", "http://h/_other"),
    ],
)
def test_the_path_from_api_on_goes_after_the_upstreams_base(base: str, raw_path: str, url: str) -> None:
    assert Upstream.parse(base).url_for(raw_path) == url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://h/x", "http:// or https:// URL"),
        ("https:///Cust1", "with a host"),
        ("https://user:pw@h/Cust1", "must not hold credentials"),
        ("https://h/Cust1?x=1", "query or fragment"),
    ],
)
def test_an_upstream_url_that_cannot_be_used_is_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ProxyCore(text)


def test_a_proxy_keeps_one_journal_for_every_tenant_prefix() -> None:
    with pytest.raises(ConfigError, match="one upstream"):
        ProxyCore("https://h", tenants="isolated")


def test_secrets_are_found_and_scrubbed_even_where_a_preview_cuts_them() -> None:
    headers = {
        "Authorization": BASIC,
        "SO-AppToken": "app-token",
        "X-XSRF-TOKEN": "xsrf",
        "Cookie": "XSRF-TOKEN=xsrf; s=session-id",
    }
    assert set(secrets_of(headers)) == {"dGplMDpUamUw", "Tje0", "app-token", "xsrf", "session-id"}
    assert scrub("realm=dGplMDpUamUw and Tje0", secrets_of(headers)) == "realm=<redacted> and <redacted>"
    assert scrub("'ab session-i…'", ["session-id"]) == "'ab <redacted>…'"
    assert scrub("'ab ses…'", ["session-id"]) == "'ab <redacted>…'"
    assert scrub("'ab se…'", ["session-id"]) == "'ab se…'"  # two characters or fewer say nothing


# ---- the validator and the journal ----------------------------------------------------------

AUTH_JSON = {"Content-Type": "application/json", "Authorization": BASIC}
REQUESTS = [
    RawRequest.build("POST", SAVE_PATH, headers=AUTH_JSON, body=save_body()),
    RawRequest.build("POST", SAVE_PATH, headers={**AUTH_JSON, "Content-Type": "application/xml"}, body=xml_body()),
    RawRequest.build("POST", SAVE_PATH, headers={"Content-Type": "application/json"}, body=save_body()),
    RawRequest.build("POST", SAVE_PATH, headers={"Content-Type": "text/csv", "Authorization": BASIC}, body=b"a,b"),
    RawRequest.build("POST", SAVE_PATH, headers={"Content-Type": "application/json", "Authorization": BASIC},
                     body=b'{"Image": "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "Extra": 1}'),
    RawRequest.build("POST", SAVE_PATH, headers={"Content-Type": "application/json", "Authorization": BASIC,
                     "Accept": "image/png"}, body=save_body(), query="$select=a&x=1"),
    RawRequest.build("PUT", SAVE_PATH, headers={"Authorization": BASIC}),
    RawRequest.build("POST", "/nothing/here"),
]  # fmt: skip


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("installation", ["onsite", "online"])
def test_the_validator_finds_what_the_fake_finds_and_stores_nothing(strict: bool, installation: str) -> None:
    proxy = ProxyCore("https://h/Cust1", strict=strict, installation=installation)
    fake = Fake(strict=strict, installation=installation)
    for raw in REQUESTS:
        mine, theirs = proxy.validator.process(raw).record, fake.process(raw).record
        assert (mine.status, mine.violations, mine.warnings) == (theirs.status, theirs.violations, theirs.warnings)
    assert len(proxy.validator.images) == 0 and proxy.validator.next_id == 1
    assert len(proxy.validator.calls) == 1  # it keeps only its last record
    assert len(proxy.calls) == 0  # the proxy's own journal is for exchanges


def test_the_validator_leaves_references_to_blobs_to_the_tenant() -> None:
    raw = RawRequest.build(
        "POST", CHANGE.path, headers={"Content-Type": "application/json", "Authorization": BASIC},
        body=b'{"PersonId": 1, "BlobId": 77}',
    )  # fmt: skip
    assert Fake().process(raw).record.status == 400
    assert ProxyCore("https://h").validator.process(raw).record.status == 204


def test_an_exchange_is_journaled_with_the_upstreams_answer_and_its_drift() -> None:
    proxy = ProxyCore("https://h/Cust1")
    raw = RawRequest.build(
        "POST", f"/Cust9{SAVE_PATH}", headers={"Content-Type": "application/json", "Authorization": BASIC},
        body=b'{"Image": "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="}',
    )  # fmt: skip
    got = answer(body=b'"34"', WWW_Authenticate='Basic realm="dGplMDpUamUw"', Set_Cookie="s=1")
    record = proxy.record_exchange(raw, UpstreamAnswer(got.status, got.headers, got.body, 12.34), url="u", started=5.0)
    assert proxy.calls.last is record
    assert (record.seq, record.time, record.status, record.blob_id, record.result) == (1, 5.0, 200, None, None)
    assert record.response_type == "application/json" and record.prefix == "/Cust9"
    assert [w.location for w in record.warnings] == ["body.Type"] and record.violations == ()
    assert record.header("Authorization") == "Basic <redacted>"
    assert record.extra["upstream"] == {
        "forwarded": True,
        "url": "u",
        "fake_status": 200,
        "status": 200,
        "elapsed_ms": 12.3,
        "headers": {"Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="<redacted>"'},
    }
    assert record.extra["drift"] == [
        {
            "kind": "result",
            "location": "body",
            "expected": "an int32 such as 33",
            "got": "string '34'",
            "message": "body: expected an int32 such as 33, got string '34'",
        }
    ]
    json.dumps(record.to_json())  # the journal route can serve it
    ok = proxy.record_exchange(raw, answer(body=b"35"))
    assert (ok.seq, ok.blob_id, ok.result, ok.extra["drift"]) == (2, 35, 35, [])
    failed = proxy.record_exchange(raw, None, "ClientConnectorError: refused")
    assert (failed.status, failed.extra["upstream"]["error"]) == (502, "ClientConnectorError: refused")
    summary = proxy.drift.summary()
    assert (summary["drift"], summary["exchanges"], summary["exchanges_with_drift"]) == (2, 3, 2)
    assert list(summary["kinds"]) == ["result", "no_answer"]
    assert summary["kinds"]["result"]["example"]["seq"] == 1
    proxy.reset()
    assert proxy.drift.summary()["exchanges"] == 0 and len(proxy.calls) == 0


def test_a_request_the_proxy_answers_itself_is_journaled_as_not_forwarded() -> None:
    proxy = ProxyCore("https://h")
    too_large = ApiError(413, [Violation("body", "at most 1 bytes", "2 bytes")])
    raw = RawRequest("POST", SAVE_PATH, "", CIMultiDict({"Authorization": BASIC}), b"", too_large)
    outcome = proxy.process(raw)
    assert outcome.status == 413 and outcome.record is proxy.calls.last
    assert outcome.record.extra == {"upstream": {"forwarded": False}}
    assert proxy.drift.summary()["exchanges"] == 0
