"""The proxy's client side: TLS to the upstream, which headers pass, one request sent and its answer read.

An answer is read whole only up to `KEPT_ANSWER` bytes, each taken from the body budget every
request body shares: past either, the reply stays open and `http.proxy` streams the rest to the
client as it comes, holding one chunk at a time, so an answer of any size (or an endless one)
holds a bounded amount of memory.

The request goes out as the client sent it, except for what belongs to each connection rather
than to the request (hop-by-hop headers, RFC 9110 §7.6.1), and Host: the upstream's own name
goes there, as its TLS certificate, its virtual hosts and any load balancer in front of it
expect (the proxy's address would mean nothing to them). aiohttp adds no headers of its own
(no User-Agent, Accept, Accept-Encoding or Content-Type), follows no redirect, keeps no cookies
and does not decompress the answer, so the client gets the upstream's bytes.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ..core.proxy.drift import UpstreamAnswer
from .body import Hold

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Content-Length is set again for the same bytes; Expect was answered by the proxy (100 Continue).
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "expect"}
NOT_RETURNED = HOP_BY_HOP | {"content-length"}
NO_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})
DEFAULT_TIMEOUT = 120.0
# Bytes of one upstream answer kept to check and journal; the rest is passed on unchecked.
KEPT_ANSWER = 32 * 1024 * 1024


def tls_context(ca_file: Path | str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """Certificates verified against the system's CAs (and `ca_file`'s); `insecure` verifies nothing."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def passing(headers: Iterable[tuple[str, str]], dropped: frozenset[str]) -> CIMultiDict[str]:
    """The headers without `dropped` ones and without any the Connection header names (each value kept)."""
    items = list(headers)
    named = {
        token.strip().lower()
        for name, value in items
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }
    skip = dropped | named
    return CIMultiDict((name, value) for name, value in items if name.lower() not in skip)


@dataclass(frozen=True, slots=True)
class Reply:
    """The upstream's answer: what the checks read, and its reason phrase and headers as sent.

    When the answer was longer than what may be kept, `answer.body` is its first bytes, `pending`
    the chunk read past them and `rest` the open answer to stream the remainder from (closed by
    `close`); otherwise `rest` is None and `answer.body` is the whole body.
    """

    answer: UpstreamAnswer
    reason: str | None
    headers: CIMultiDict[str]
    rest: aiohttp.ClientResponse | None = None
    pending: bytes = b""
    started: float = 0.0

    def close(self) -> None:
        if self.rest is not None:
            self.rest.close()  # an answer not read to its end: the connection is not reused


class UpstreamClient:
    """One connection pool to the upstream, opened and closed with the proxy's site."""

    def __init__(self, tls: ssl.SSLContext | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.tls = tls if tls is not None else tls_context()
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.tls),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def send(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        chunked: bool,
        hold: Hold | None = None,
    ) -> Reply:
        """Send one request and read its answer up to what may be kept (`KEPT_ANSWER`, and room in `hold`'s budget).

        Raise `aiohttp.ClientError` or `TimeoutError` when no answer comes. A reply with `rest`
        must be closed (`Reply.close`) once streamed.
        """
        if self._session is None:
            await self.open()
        assert self._session is not None
        data: bytes | AsyncIterator[bytes] | None = _chunks(body) if chunked and body is not None else body
        started = time.perf_counter()
        resp = await self._session.request(
            method,
            URL(url, encoded=True),  # the path and query exactly as the client sent them
            headers=passing(headers, NOT_FORWARDED),
            data=data,
            allow_redirects=False,
            skip_auto_headers=NO_AUTO_HEADERS,
        )
        try:
            sent = CIMultiDict(resp.headers)
            kept = bytearray()
            while chunk := await resp.content.readany():
                if len(kept) + len(chunk) > KEPT_ANSWER or (hold is not None and not hold.take(len(chunk))):
                    prefix = bytes(kept)
                    answer = UpstreamAnswer(resp.status, sent, prefix, 0.0, size=len(prefix))
                    return Reply(answer, resp.reason, sent, rest=resp, pending=chunk, started=started)
                kept += chunk
        except BaseException:
            resp.close()
            raise
        resp.release()
        elapsed = (time.perf_counter() - started) * 1000
        return Reply(UpstreamAnswer(resp.status, sent, bytes(kept), elapsed), resp.reason, sent)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    """A body the client sent chunked goes on chunked (Transfer-Encoding is per connection, but kept alike)."""
    yield body
