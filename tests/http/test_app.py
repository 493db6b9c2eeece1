"""Over real HTTP: routing, the seven request content types with charsets, body binding, limits."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer

from ..support import BASIC, GIF, PNG, SAVE_PATH, b64, core_settings, form_body, headers, save_body, xml_body

REQUEST_TYPES = (
    "application/json",
    "text/json",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/xml",
    "text/xml",
    "application/x-www-form-urlencoded",
)
SUPPORTED = ", ".join(
    [
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
        "application/x-www-form-urlencoded",
        "application/json-patch+json",
        "application/merge-patch+json",
    ]
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    async with FakeServer(core_settings()) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    # No automatic Accept or Content-Type: each test says exactly what it sends.
    async with ClientSession(skip_auto_headers=("Accept", "Content-Type")) as session:
        yield session


async def call(
    http: ClientSession, url: str, body: bytes = b"", method: str = "POST", **hdrs: Any
) -> tuple[int, dict[str, str], bytes]:
    async with http.request(method, url, data=body, headers=hdrs.pop("headers", None) or headers(**hdrs)) as resp:
        return resp.status, dict(resp.headers), await resp.read()


# ---- the route ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "prefix"),
    [
        (SAVE_PATH, ""),
        (SAVE_PATH.lower(), ""),
        (SAVE_PATH.upper(), ""),
        (SAVE_PATH + "/", ""),
        ("/Cust12345" + SAVE_PATH, "/Cust12345"),
        ("/SuperOffice" + SAVE_PATH + "/", "/SuperOffice"),
        ("/cust12345/API/v1/agents/Blob/saveImageStream", "/cust12345"),
    ],
)
async def test_path_variants_reach_the_call(fake: FakeServer, http: ClientSession, path: str, prefix: str) -> None:
    status, _, body = await call(http, fake.url + path, save_body())
    assert (status, body) == (200, b"1")
    assert fake.calls.last.prefix == prefix
    assert fake.calls.last.operation == "SaveImageStream"


@pytest.mark.parametrize("path", [SAVE_PATH, "/Cust12345" + SAVE_PATH.lower() + "/"])
async def test_get_describes_the_call_from_the_contract(fake: FakeServer, http: ClientSession, path: str) -> None:
    status, hdrs, body = await call(http, fake.url + path, method="GET", content_type=None)
    assert status == 200
    assert hdrs["Content-Type"] == "application/json; charset=utf-8"
    described = json.loads(body)
    assert described["Method"] == "POST"
    assert described["OperationId"] == "v1BLOBAgent_SaveImageStream"
    assert [p["Name"] for p in described["Body"]] == ["Type", "Image", "Description"]
    assert described["Body"][0]["Values"]["ExtraTableIcon"] == 19
    assert described["Result"] == "int32"
    assert len(described["RequestMediaTypes"]) == 7
    assert fake.next_id == 1  # describing consumes no id


async def test_head_answers_like_get_without_a_body(fake: FakeServer, http: ClientSession) -> None:
    status, hdrs, body = await call(http, fake.url + SAVE_PATH, method="HEAD", content_type=None)
    assert status == 200
    assert body == b""
    assert hdrs["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_are_405_with_allow(fake: FakeServer, http: ClientSession, method: str) -> None:
    status, hdrs, body = await call(http, fake.url + SAVE_PATH, save_body(), method=method)
    assert status == 405
    assert hdrs["Allow"] == "GET, HEAD, POST"
    error = json.loads(body)
    assert error["ErrorType"] == "MethodNotAllowedException"
    assert error["Violations"][0]["location"] == "method"
    assert error["Violations"][0]["got"] == method


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/Agents/BLOB/SaveImage", "/api/v1/Agents/BLOB", "/Cust12345/api/v1/Agents/BLOB/Nope"]
)
async def test_unknown_path_is_404_in_the_error_shape(fake: FakeServer, http: ClientSession, path: str) -> None:
    status, hdrs, body = await call(http, fake.url + path, save_body())
    assert status == 404
    assert hdrs["Content-Type"] == "application/json; charset=utf-8"
    error = json.loads(body)
    assert error["Error"] is True
    assert error["ErrorType"] == "SoNotFoundException"
    assert error["ErrorSource"] == "SuperOffice.Services.Implementation"
    assert error["Violations"][0]["location"] == "path"
    assert "POST /api/v1/Agents/BLOB/SaveImageStream" in error["Message"]


# ---- request bodies: seven content types, with and without charset -------------------------


def body_for(media_type: str, charset: str | None, description: str) -> bytes:
    codec = charset or "utf-8"
    if "xml" in media_type:
        return xml_body(description=description, encoding=codec)
    if "form" in media_type:
        return form_body(description=description, encoding=codec)
    return json.dumps({"Type": "PersonImage", "Image": b64(PNG), "Description": description}).encode(codec)


@pytest.mark.parametrize("charset", [None, "utf-8", "UTF-8", "utf-16", "iso-8859-1"])
@pytest.mark.parametrize("media_type", REQUEST_TYPES)
async def test_every_content_type_with_and_without_charset(
    fake: FakeServer, http: ClientSession, media_type: str, charset: str | None
) -> None:
    content_type = media_type if charset is None else f"{media_type}; charset={charset}"
    description = "Café Ørsted"  # not ASCII: proves the charset was honoured
    status, _, _ = await call(
        http, fake.url + SAVE_PATH, body_for(media_type, charset, description), content_type=content_type
    )
    assert status == 200, fake.calls.last.violations
    record = fake.calls.last
    assert (record.blob_id, record.type, record.description) == (1, "PersonImage", description)
    assert record.warnings == ()
    assert fake.images[1] == PNG


@pytest.mark.parametrize("media_type", ["application/json", "text/xml", "application/x-www-form-urlencoded"])
async def test_unknown_charset_is_415_naming_it(fake: FakeServer, http: ClientSession, media_type: str) -> None:
    status, _, body = await call(
        http,
        fake.url + SAVE_PATH,
        save_body(),
        content_type=f"{media_type}; charset=klingon",
        accept="application/json",
    )
    assert status == 415
    error = json.loads(body)
    assert error["ErrorType"] == "UnsupportedMediaTypeException"
    assert "'klingon'" in error["Message"]
    assert error["Violations"][0]["location"] == "header.Content-Type.charset"
    assert fake.next_id == 1


@pytest.mark.parametrize(
    "content_type", [None, "", "image/png", "text/plain", "multipart/form-data; boundary=x", "json"]
)
async def test_missing_or_unsupported_content_type_is_415_listing_the_types(
    fake: FakeServer, http: ClientSession, content_type: str | None
) -> None:
    status, _, body = await call(http, fake.url + SAVE_PATH, save_body(), content_type=content_type)
    assert status == 415
    error = json.loads(body)
    violation = error["Violations"][0]
    assert violation["location"] == "header.Content-Type"
    assert violation["expected"] == f"one of {SUPPORTED}"


async def test_charset_that_does_not_match_the_bytes_is_400(fake: FakeServer, http: ClientSession) -> None:
    status, _, body = await call(
        http, fake.url + SAVE_PATH, save_body(description="café").replace(b"caf\\u00e9", "café".encode())
    )
    assert status == 200  # utf-8 bytes, utf-8 default
    latin = json.dumps({"Image": b64(PNG), "Description": "é"}, ensure_ascii=False).encode("latin-1")
    status, _, body = await call(http, fake.url + SAVE_PATH, latin, content_type="application/json; charset=utf-8")
    assert status == 400
    assert json.loads(body)["Violations"][0]["expected"] == "text in utf-8"


@pytest.mark.parametrize(
    "body",
    [
        xml_body(ns="http://schemas.datacontract.org/2004/07/SuperOffice.WebApi.Agents"),
        xml_body(root="request", declaration=False),
        b"<R><type>personimage</type><IMAGE>" + b64(PNG).encode() + b"</IMAGE></R>",
        b'<a:Req xmlns:a="urn:x"><a:Type>1</a:Type><a:Image>' + b64(PNG).encode() + b"</a:Image></a:Req>",
        b'<r xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Type>1</Type><Image>'
        + b64(PNG).encode()
        + b'</Image><Description i:nil="true"/></r>',
    ],
)
async def test_xml_any_root_namespaced_or_not_names_any_case(
    fake: FakeServer, http: ClientSession, body: bytes
) -> None:
    status, hdrs, _ = await call(http, fake.url + SAVE_PATH, body, content_type="application/xml")
    assert status == 200, fake.calls.last.violations
    assert fake.calls.last.type == "PersonImage"
    assert fake.images[1] == PNG
    assert hdrs["Content-Type"] == "application/xml; charset=utf-8"  # no Accept: the request's own format


async def test_camel_case_body_as_the_official_client_sends(fake: FakeServer, http: ClientSession) -> None:
    body = json.dumps({"type": "PersonImage", "image": b64(PNG), "description": "camel"}).encode()
    status, _, answer = await call(http, fake.url + SAVE_PATH, body)
    assert (status, answer) == (200, b"1")
    assert fake.calls.last.description == "camel"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("PersonImage", "PersonImage"),
        ("personimage", "PersonImage"),
        ("QUOTELINEIMAGE", "QuoteLineImage"),
        (13, "Dashboard"),
        ("13", "Dashboard"),
        ("  4 ", "Thumbnail"),
    ],
)
async def test_type_by_name_or_number(fake: FakeServer, http: ClientSession, sent: Any, stored: str) -> None:
    status, _, _ = await call(http, fake.url + SAVE_PATH, save_body(type_=sent))
    assert status == 200
    assert fake.calls.last.type == stored
    assert fake.images.entry(1).type == stored  # type: ignore[union-attr]


async def test_image_as_json_array_of_bytes(fake: FakeServer, http: ClientSession) -> None:
    body = json.dumps({"Type": 1, "Image": list(GIF)}).encode()
    status, _, _ = await call(http, fake.url + SAVE_PATH, body)
    assert status == 200
    assert fake.images[1] == GIF


async def test_base64_with_whitespace_is_accepted(fake: FakeServer, http: ClientSession) -> None:
    text = b64(PNG)
    wrapped = "\r\n".join(text[i : i + 16] for i in range(0, len(text), 16))
    status, _, _ = await call(http, fake.url + SAVE_PATH, json.dumps({"Type": 1, "Image": wrapped}).encode())
    assert status == 200
    assert fake.images[1] == PNG


async def test_missing_image_is_400(fake: FakeServer, http: ClientSession) -> None:
    body = json.dumps({"Type": "PersonImage", "Description": "no image"}).encode()
    status, _, answer = await call(http, fake.url + SAVE_PATH, body)
    assert status == 400
    error = json.loads(answer)
    assert error["Violations"] == [
        {
            "location": "body.Image",
            "expected": "base64 (required)",
            "got": "nothing",
            "message": "body.Image must be base64 (required) (got nothing)",
        }
    ]


async def test_form_body_needs_plus_encoded(fake: FakeServer, http: ClientSession) -> None:
    data = bytes([0xFB, 0xEF]) * 3  # base64 '++/v' groups
    raw = f"Type=1&Image={b64(data)}".encode()
    status, _, answer = await call(http, fake.url + SAVE_PATH, raw, content_type="application/x-www-form-urlencoded")
    assert status == 400
    assert "'+' must be sent as %2B" in json.loads(answer)["Message"]


# ---- the body limit ------------------------------------------------------------------------


def raw_exchange(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request without finishing its body; return everything the server answers."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        # If the server waited for the rest of the body, recv would time out and fail the test.
        sock.settimeout(5)
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


async def test_over_limit_content_length_is_413_before_the_body_is_read(http: ClientSession) -> None:
    async with FakeServer(core_settings(max_body_size=1024)) as fake:
        head = (
            f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {BASIC}\r\n"
            "Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
        ).encode()
        answer = await asyncio.to_thread(raw_exchange, fake.port, head, b"x" * 4096)  # type: ignore[arg-type]
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
        error = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert error["ErrorType"] == "RequestEntityTooLargeException"
        assert error["Violations"][0]["got"] == "Content-Length 50000000"
        assert fake.calls.last.status == 413
        assert fake.next_id == 1


async def test_over_limit_chunked_body_is_413_without_reading_the_rest() -> None:
    async with FakeServer(core_settings(max_body_size=1024)) as fake:
        head = (
            f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {BASIC}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        chunks = b"".join(b"400\r\n" + b"x" * 1024 + b"\r\n" for _ in range(3))  # no final 0-chunk: never ends
        answer = await asyncio.to_thread(raw_exchange, fake.port, head, chunks)  # type: ignore[arg-type]
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b'"got":"more than 1024 bytes (chunked)"' in answer
        assert fake.calls.last.status == 413


async def test_body_at_the_limit_is_accepted_and_one_over_is_not(http: ClientSession) -> None:
    body = save_body(description="x")
    async with FakeServer(core_settings(max_body_size=len(body))) as fake:
        status, _, _ = await call(http, fake.url + SAVE_PATH, body)
        assert status == 200
        status, _, _ = await call(http, fake.url + SAVE_PATH, save_body(description="xy"))
        assert status == 413
        assert fake.next_id == 2


async def test_default_limit_is_32_mib(fake: FakeServer, http: ClientSession) -> None:
    assert fake.settings.max_body_size == 32 * 1024 * 1024
    status, _, _ = await call(
        http, fake.url + SAVE_PATH, save_body(image=b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024))
    )
    assert status == 200


def expect_exchange(port: int, length: int, body: bytes) -> tuple[bytes, bytes]:
    """Send headers with Expect: 100-continue; return the first answer, then what follows the body."""
    head = (
        f"POST {SAVE_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {BASIC}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        sock.sendall(head)
        first = sock.recv(65536)
        rest = b""
        if first.startswith(b"HTTP/1.1 100"):
            sock.sendall(body)
            while chunk := sock.recv(65536):
                rest += chunk
    return first, rest


async def test_expect_continue_is_granted_within_the_limit_and_refused_over_it() -> None:
    body = save_body()
    async with FakeServer(core_settings(max_body_size=len(body))) as fake:
        first, rest = await asyncio.to_thread(expect_exchange, fake.port, len(body), body)  # type: ignore[arg-type]
        assert first == b"HTTP/1.1 100 Continue\r\n\r\n"
        assert rest.startswith(b"HTTP/1.1 200 OK") and rest.endswith(b"\r\n\r\n1")
        # Over the limit: no 100 Continue, the 413 comes before the client sends anything.
        first, _ = await asyncio.to_thread(expect_exchange, fake.port, len(body) + 1, body)  # type: ignore[arg-type]
        assert first.startswith(b"HTTP/1.1 413 ")
        assert [c.status for c in fake.calls] == [200, 413]
