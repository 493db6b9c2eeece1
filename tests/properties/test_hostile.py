"""Hostile input over real HTTP: each is refused with a 4xx, nothing hangs, the next request still works.

Every exchange runs under `asyncio.wait_for` as a guard against hangs, not as a speed assertion.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession, ClientTimeout

import mockserver.http.body
from mockserver import CallRecord, FakeServer

from .strategies import SAVE_PATH, gif

GUARD = 15.0  # seconds: far beyond any honest answer, short enough to fail a hang
AUTH = {"Authorization": "Basic dGplMDpUamUw"}
VALID = json.dumps({"Type": "PersonImage", "Image": base64.b64encode(gif(2, 2, b"abc")).decode()}).encode()


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    async with FakeServer(port=0) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession(timeout=ClientTimeout(total=GUARD)) as session:
        yield session


async def post(
    http: ClientSession, fake: FakeServer, body: bytes, ctype: str = "application/json", **headers: str
) -> tuple[int, dict[str, object], str]:
    hdrs = {"Content-Type": ctype, **AUTH, "Accept": "application/json", **headers}
    async with http.post(fake.url + SAVE_PATH, data=body, headers=hdrs) as resp:
        text = await resp.text()
        return resp.status, (json.loads(text) if text.startswith("{") else {}), text


def locations(error: dict[str, object]) -> list[str]:
    return [v["location"] for v in error["Violations"]]  # type: ignore[index, union-attr]


async def still_serves(http: ClientSession, fake: FakeServer) -> None:
    """The next valid request gets the next id, and every request so far was journaled."""
    expected = fake.next_id
    status, _, text = await post(http, fake, VALID)
    assert (status, text) == (200, str(expected))


async def refused(
    http: ClientSession, fake: FakeServer, body: bytes, ctype: str = "application/json", status: int = 400
) -> tuple[dict[str, object], str]:
    before = fake.state.journal.total
    got, error, text = await asyncio.wait_for(post(http, fake, body, ctype), GUARD)
    assert got == status, text[:500]
    assert fake.state.journal.total == before + 1 and fake.calls.last.status == status
    await still_serves(http, fake)
    return error, text


# ---- XML: entities and DTDs ----------------------------------------------------------------

IMAGE_B64 = base64.b64encode(gif(1, 1, b"xyz")).decode()


def xml(doctype: str, description: str) -> bytes:
    return f"{doctype}<Request><Image>{IMAGE_B64}</Image><Description>{description}</Description></Request>".encode()


@pytest.mark.parametrize(
    "body",
    [
        xml('<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        xml('<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>', "&xxe;"),
        xml('<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', "x"),
        xml('<!DOCTYPE r SYSTEM "file:///etc/passwd">', "x"),
        xml('<!DOCTYPE r [<!ENTITY e "internal">]>', "&e;"),
        xml("<!DOCTYPE r>", "plain"),
    ],
    ids=["external-entity", "hostname", "parameter-entity", "external-subset", "internal-entity", "bare-doctype"],
)
async def test_xml_with_a_dtd_is_refused_and_reads_no_file(http: ClientSession, fake: FakeServer, body: bytes) -> None:
    error, text = await refused(http, fake, body, "application/xml")
    assert locations(error) == ["body"]
    assert "root:" not in text and "/bin/" not in text
    assert fake.calls[-2].description is None  # nothing was bound, let alone a file's contents


async def test_external_dtd_is_never_fetched(http: ClientSession, fake: FakeServer) -> None:
    # The DTD lives on the fake itself: a fetch would show up as a journaled GET.
    for doctype in (
        f'<!DOCTYPE r SYSTEM "{fake.url}/evil.dtd">',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{fake.url}/evil.dtd"> %p;]>',
        f'<!DOCTYPE r [<!ENTITY e SYSTEM "{fake.url}/evil.txt">]>',
    ):
        await refused(http, fake, xml(doctype, "&e;" if "ENTITY e" in doctype else "x"), "text/xml")
    assert [c.method for c in fake.calls] == ["POST"] * 6


def laughs(levels: int, fan: int) -> bytes:
    ents = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * fan}">' for i in range(1, levels + 1)
    ]
    return xml(f"<!DOCTYPE r [{''.join(ents)}]>", f"&l{levels};")


@pytest.mark.parametrize(
    "body",
    [
        laughs(10, 10),  # a billion laughs
        laughs(30, 2),  # deep rather than wide
        xml(f'<!DOCTYPE r [<!ENTITY big "{"x" * 50_000}">]>', "&big;" * 1000),  # quadratic blowup
    ],
    ids=["billion-laughs", "deep-entities", "quadratic"],
)
async def test_entity_expansion_bombs_are_refused(http: ClientSession, fake: FakeServer, body: bytes) -> None:
    error, _ = await refused(http, fake, body, "application/xml")
    assert locations(error) == ["body"]


async def test_xml_nested_deeply_is_refused(http: ClientSession, fake: FakeServer) -> None:
    body = b"<Request><Image>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</Image></Request>"
    error, _ = await refused(http, fake, body, "application/xml")
    assert locations(error) == ["body"]


# ---- JSON and text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"Image":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"Type":"PersonImage","Image":"","Description":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["arrays", "objects", "inside-image", "inside-description"],
)
async def test_json_nested_100_000_deep_is_refused(http: ClientSession, fake: FakeServer, body: bytes) -> None:
    error, _ = await refused(http, fake, body)
    assert locations(error) == ["body"]


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b'{"Image":"","Description":"caf\xe9"}', "application/json"),
        (b'{"Image":"","Description":"\xc3\x28"}', "application/json; charset=utf-8"),
        (b'{"Image":"","Description":"\xed\xa0\x80"}', "text/json"),  # an encoded surrogate
        (b"<Request><Image></Image><Description>\xff\xfe</Description></Request>", "application/xml; charset=utf-8"),
        (b"Image=&Description=%FF%FE", "application/x-www-form-urlencoded"),
    ],
    ids=["latin1-byte", "bad-continuation", "surrogate", "xml", "form-percent"],
)
async def test_invalid_utf8_is_refused(http: ClientSession, fake: FakeServer, body: bytes, ctype: str) -> None:
    error, _ = await refused(http, fake, body, ctype)
    assert locations(error) == ["body"]


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b'{"Image":"",\x00"Description":"x"}', "application/json"),
        (b'{"Image":"","Description":"a\x00b"}', "application/json"),  # raw control character in a string
        (b"<Request><Image></Image><Description>a\x00b</Description></Request>", "application/xml"),
        (b"\x00" * 64, "application/json"),
    ],
    ids=["json-between-tokens", "json-in-string", "xml", "only-nuls"],
)
async def test_raw_nul_bytes_are_refused(http: ClientSession, fake: FakeServer, body: bytes, ctype: str) -> None:
    error, _ = await refused(http, fake, body, ctype)
    assert locations(error) == ["body"]


@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
async def test_escaped_nul_is_data_and_errors_that_quote_it_still_parse(
    http: ClientSession, fake: FakeServer, accept: str
) -> None:
    ok = json.dumps({"Image": IMAGE_B64, "Description": "a\u0000b"}).encode()
    status, _, _ = await post(http, fake, ok, Accept=accept)
    assert status == 200 and fake.calls.last.description == "a\x00b"
    bad = json.dumps({"Image": IMAGE_B64, "Type": "\u0000\u0001<&>"}).encode()
    async with http.post(
        fake.url + SAVE_PATH, data=bad, headers={"Content-Type": "application/json", **AUTH, "Accept": accept}
    ) as resp:
        assert resp.status == 400
        raw = await resp.read()
    if accept == "application/xml":
        from lxml import etree

        root = etree.fromstring(raw)  # must be well-formed although the value held control characters
        assert root.findtext(".//{*}Location") == "body.Type"
    else:
        assert locations(json.loads(raw)) == ["body.Type"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"Type":"PersonImage","type":"ProjectImage","Image":""}',
        b'{"Image":"","IMAGE":"R0lGODlhAQABAAAAACw="}',
        b'{"Image":"","description":"a","Description":"a"}',
    ],
)
async def test_duplicate_properties_differing_only_in_case_are_refused(
    http: ClientSession, fake: FakeServer, body: bytes
) -> None:
    error, _ = await refused(http, fake, body)
    [location] = set(locations(error))
    assert location in {"body.Type", "body.Image", "body.Description"}
    assert "given once" in json.dumps(error)


async def test_xml_duplicates_differing_only_in_case_are_refused(http: ClientSession, fake: FakeServer) -> None:
    body = f"<r><Image>{IMAGE_B64}</Image><type>1</type><TYPE>2</TYPE></r>".encode()
    error, _ = await refused(http, fake, body, "application/xml")
    assert set(locations(error)) == {"body.Type"}


# ---- the wire: lying lengths, chunks, huge headers, huge bodies --------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (Content-Length or until EOF)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
    return int(status_line.split()[1]), headers, body


async def exchange(fake: FakeServer, data: bytes, *, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    try:
        writer.write(data)
        await writer.drain()
        if half_close:
            writer.write_eof()
        return await asyncio.wait_for(read_response(reader), GUARD)
    finally:
        writer.close()


def request_head(length: int | None = None, chunked: bool = False, extra: str = "") -> bytes:
    lines = [
        f"POST {SAVE_PATH} HTTP/1.1",
        "Host: fake",
        "Content-Type: application/json",
        f"Authorization: {AUTH['Authorization']}",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


async def wait_for_records(fake: FakeServer, total: int) -> None:
    async def settle() -> None:
        while fake.state.journal.total < total:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(settle(), GUARD)


async def test_content_length_longer_than_the_body_then_eof_is_journaled_as_400(
    http: ClientSession, fake: FakeServer
) -> None:
    # aiohttp closes a half-closed connection, so no answer can be sent; the call is still recorded.
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    writer.write(request_head(len(VALID) + 50) + VALID)
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), GUARD) == b""
    writer.close()
    await wait_for_records(fake, 1)
    assert fake.calls.last.status == 400 and fake.calls.last.violations[0].location == "body"
    await still_serves(http, fake)


async def test_content_length_longer_than_the_body_then_silence_is_400_after_the_idle_timeout(
    http: ClientSession, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mockserver.http.body, "BODY_IDLE_TIMEOUT", 0.3)
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    writer.write(request_head(len(VALID) + 50) + VALID)
    await writer.drain()
    await still_serves(http, fake)  # a stalled client holds its own connection, not the server
    status, _, body = await asyncio.wait_for(read_response(reader), GUARD)
    writer.close()
    assert status == 400 and locations(json.loads(body)) == ["body"]
    assert [c.status for c in fake.calls] == [200, 400]


async def test_content_length_shorter_than_the_body_reads_only_the_declared_bytes(
    http: ClientSession, fake: FakeServer
) -> None:
    half = len(VALID) // 2
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    writer.write(request_head(half) + VALID[:half])
    status, _, body = await asyncio.wait_for(read_response(reader), GUARD)
    assert status == 400 and locations(json.loads(body)) == ["body"]  # half a JSON document
    writer.write(VALID[half:] + b"\r\n\r\n")  # the rest arrives as if it were the next request
    status, _, _ = await asyncio.wait_for(read_response(reader), GUARD)
    assert status == 400
    writer.close()
    assert [c.status for c in fake.calls] == [400, 400] and fake.next_id == 1
    assert_refused_by_parser(fake.calls.last)  # the leftover bytes are journaled as an unreadable request
    await still_serves(http, fake)


async def test_content_length_shorter_than_the_body_in_one_packet_is_refused(
    http: ClientSession, fake: FakeServer
) -> None:
    # aiohttp parses the leftover bytes in the same read as a second request and fails: the fake's
    # connection handler journals one unreadable request and answers it in SuperOffice's shape.
    status, _, body = await exchange(fake, request_head(len(VALID) // 2) + VALID)
    assert status == 400 and locations(json.loads(body)) == ["request"]
    assert fake.state.journal.total == 1
    assert_refused_by_parser(fake.calls.last)
    await still_serves(http, fake)


def assert_refused_by_parser(record: CallRecord) -> None:
    assert (record.status, record.path, record.operation) == (400, "(unparsed)", None)
    assert [v.location for v in record.violations] == ["request"]
    assert "must be a well-formed HTTP/1.1 request" in record.violations[0].message


def chunks(data: bytes, size: int) -> bytes:
    parts = [
        f"{len(data[i : i + size]):x}\r\n".encode() + data[i : i + size] + b"\r\n" for i in range(0, len(data), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


async def test_a_chunked_body_is_read_whole_and_accepted(http: ClientSession, fake: FakeServer) -> None:
    status, _, body = await exchange(fake, request_head(chunked=True) + chunks(VALID, 7))
    assert (status, body) == (200, b"1")
    assert fake.images[1] == base64.b64decode(json.loads(VALID)["Image"])
    await still_serves(http, fake)


@pytest.mark.parametrize(
    "tail",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nabc\r\n0\r\n\r\n", b"ffffffffffffffffff\r\nabc\r\n"],
    ids=["bad-size", "short-chunk", "huge-size"],
)
async def test_malformed_chunks_are_refused(http: ClientSession, fake: FakeServer, tail: bytes) -> None:
    # Sent with the head, a bad chunk fails aiohttp's parser before the handler runs; the fake's
    # connection handler still journals it.
    status, _, body = await exchange(fake, request_head(chunked=True) + tail)
    assert status == 400 and locations(json.loads(body)) == ["request"]
    assert fake.state.journal.total == 1
    assert_refused_by_parser(fake.calls.last)
    await still_serves(http, fake)


async def test_a_malformed_chunk_after_the_head_is_400_after_the_idle_timeout(
    http: ClientSession, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiohttp queues its parse error behind the running handler, which would wait forever for the body.
    monkeypatch.setattr(mockserver.http.body, "BODY_IDLE_TIMEOUT", 0.3)
    reader, writer = await asyncio.open_connection(fake.host, fake.port)
    writer.write(request_head(chunked=True) + b"7\r\n" + VALID[:7] + b"\r\n")
    await writer.drain()
    await asyncio.sleep(0.05)  # let the handler start reading the body before the bad chunk arrives
    writer.write(b"zz\r\n")
    status, _, _ = await asyncio.wait_for(read_response(reader), GUARD)
    writer.close()
    assert status == 400
    await wait_for_records(fake, 1)
    assert fake.calls.last.status == 400 and fake.calls.last.violations[0].location == "body"
    await still_serves(http, fake)


async def test_content_length_and_chunked_together_is_refused(http: ClientSession, fake: FakeServer) -> None:
    status, _, _ = await exchange(fake, request_head(len(VALID), chunked=True) + chunks(VALID, 64))
    assert 400 <= status < 500
    assert fake.next_id == 1
    await still_serves(http, fake)


@pytest.mark.parametrize("name", ["X-Padding", "Authorization", "SO-Language", "Accept", "Cookie"])
async def test_a_64_kib_header_value_is_400_naming_it(http: ClientSession, fake: FakeServer, name: str) -> None:
    before = fake.state.journal.total
    headers = {"Content-Type": "application/json", **AUTH, name: "a" * 65536}
    async with http.post(fake.url + SAVE_PATH, data=VALID, headers=headers) as resp:
        assert resp.status == 400
        error = await resp.json()
    assert locations(error) == [f"header.{name}"]
    assert fake.state.journal.total == before + 1 and fake.calls.last.status == 400
    await still_serves(http, fake)


async def test_a_header_value_of_16_kib_is_accepted(http: ClientSession, fake: FakeServer) -> None:
    headers = {"Content-Type": "application/json", "X-Padding": "a" * 16384, **AUTH}
    async with http.post(fake.url + SAVE_PATH, data=VALID, headers=headers) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    "extra",
    [
        "X-Huge: " + "a" * (300 * 1024) + "\r\n",
        "".join(f"X-H{i}: v\r\n" for i in range(300)),
        "X-Nul: a\x00b\r\n",
        "FOO",
    ],
    ids=["300-kib-header", "300-headers", "nul-in-header", "unknown-method"],
)
async def test_headers_the_http_parser_refuses_are_journaled_and_answered_in_the_error_shape(
    http: ClientSession, fake: FakeServer, extra: str
) -> None:
    # Beyond aiohttp's parser limits a request never reaches the handler; the connection handler
    # journals it and answers SuperOffice's error body naming the request as unreadable.
    head = (
        request_head(len(VALID), extra=extra)
        if extra != "FOO"
        else request_head(len(VALID)).replace(b"POST", b"FOO", 1)
    )
    status, _, body = await exchange(fake, head + VALID)
    assert status == 400 and locations(json.loads(body)) == ["request"]
    assert fake.state.journal.total == 1
    assert_refused_by_parser(fake.calls.last)
    await still_serves(http, fake)


async def test_a_body_over_the_size_limit_is_413_and_the_next_request_succeeds(http: ClientSession) -> None:
    async with FakeServer(port=0, max_body_size=1024) as small:
        big = json.dumps({"Image": base64.b64encode(b"x" * 4096).decode()}).encode()
        status, error, _ = await asyncio.wait_for(post(http, small, big), GUARD)
        assert status == 413 and locations(error) == ["body"]
        status, headers, _ = await exchange(small, request_head(chunked=True) + chunks(big, 100))
        assert status == 413 and headers.get("connection", "").lower() == "close"
        assert [c.status for c in small.calls] == [413, 413] and small.next_id == 1
        await still_serves(http, small)
