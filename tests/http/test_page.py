"""The /_calls page for people: its HTML, and the page as headless Chromium really renders it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import struct
import tempfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockserver import FakeServer

from ..support import json_headers, save_body

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium; .ci/run installs it)"
)
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
# A complete 1x1 GIF (helpers.GIF is only a header, which no browser can decode).
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
LONG = "x" * 600  # one unbroken word, the usual cause of sideways scrolling


def png(width: int, height: int) -> bytes:
    """A solid red RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def fill(fake: FakeServer, http: aiohttp.ClientSession) -> None:
    """Three saves: a 40x30 PNG, a rejected call, a GIF with a hostile, overlong description."""
    bodies = [
        save_body(image=png(40, 30), description="red square"),
        save_body(type_="Nope", description="rejected one"),
        save_body(type_="ProjectImage", image=GIF, description=HOSTILE + LONG),
    ]
    for body in bodies:
        path = "/api/v1/Agents/BLOB/SaveImageStream?$select=" + "y" * 300
        async with http.post(fake.url + path, data=body, headers=json_headers()) as resp:
            await resp.read()


async def page_html(fake: FakeServer, http: aiohttp.ClientSession, query: str = "") -> str:
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    async with http.get(fake.url + "/_calls" + query, headers={"Accept": browser_accept}) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        return await resp.text()


async def test_page_lists_calls_newest_first_with_rejected_highlighted_and_escapes_everything() -> None:
    async with FakeServer(port=0, first_id=33) as fake, aiohttp.ClientSession() as http:
        await fill(fake, http)
        html = await page_html(fake, http)
    assert html.index('data-seq="3"') < html.index('data-seq="2"') < html.index('data-seq="1"')
    assert '<tr class="call rejected" data-seq="2" data-status="400">' in html
    assert "body.Type must be a BlobLinkType name or number" in html
    assert '<img class="thumb" src="/_images/33"' in html and '<img class="thumb" src="/_images/34"' in html
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in html


async def test_page_without_calls_says_so_and_json_stays_the_default() -> None:
    async with FakeServer(port=0) as fake, aiohttp.ClientSession() as http:
        assert "No calls yet." in await page_html(fake, http)
        async with http.get(fake.url + "/_calls") as resp:
            assert resp.content_type == "application/json"
        async with http.get(fake.url + "/_calls", headers={"Accept": "*/*"}) as resp:
            assert resp.content_type == "application/json"


async def test_page_links_carry_the_admin_token_and_filters_apply() -> None:
    async with FakeServer(port=0, admin_token="t0k") as fake, aiohttp.ClientSession() as http:
        await fill(fake, http)
        html = await page_html(fake, http, "?token=t0k&outcome=rejected")
    assert 'data-seq="2"' in html and 'data-seq="1"' not in html
    assert "(filter: outcome=rejected)" in html
    assert 'href="/_calls/2?token=t0k"' in html


class Chromium:
    """A headless Chromium driven over the DevTools protocol (websocket, aiohttp only)."""

    def __init__(self, proc: asyncio.subprocess.Process, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.proc, self.ws, self._id = proc, ws, 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        await self.ws.send_json({"id": self._id, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(reply["exceptionDetails"])
        return reply["result"].get("value")

    async def open(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        ready = "document.readyState === 'complete' && [...document.images].every(i => i.complete)"
        for _ in range(300):
            if await self.evaluate(f"location.href === {json.dumps(url)} && {ready}"):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"Chromium did not finish loading {url}")


@pytest.fixture
async def chromium() -> AsyncIterator[Chromium]:
    assert CHROMIUM is not None
    # Chromium's helper processes may still be writing the profile as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1024,768",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            for _ in range(600):
                if port_file.exists() and port_file.read_text().strip():
                    break
                await asyncio.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                    targets = await resp.json()
                page = next(t for t in targets if t["type"] == "page")
                async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    yield Chromium(proc, ws)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the browser and every helper process it started
            await proc.wait()


# Everything the checks need, read from the rendered page in one go.
PROBE = """(() => {
  const rows = [...document.querySelectorAll("tbody tr.call")];
  return {
    seqs: rows.map(r => Number(r.dataset.seq)),
    rejected: rows.filter(r => r.classList.contains("rejected")).map(r => Number(r.dataset.seq)),
    rejectedText: rows.filter(r => r.classList.contains("rejected")).map(r => r.querySelector(".outcome").innerText),
    backgrounds: rows.map(r => getComputedStyle(r).backgroundColor),
    images: [...document.images].map(i => ({blob: Number(i.dataset.blobId), w: i.naturalWidth, h: i.naturalHeight,
                                             shown: i.getBoundingClientRect().width, src: i.getAttribute("src")})),
    scripts: document.scripts.length,
    title: document.title,
    hostileShown: document.body.innerText.includes('<script>document.title="pwned"</script>'),
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  };
})()"""


@needs_chromium
async def test_chromium_renders_rows_and_real_images_without_sideways_scrolling(chromium: Chromium) -> None:
    async with FakeServer(port=0, first_id=33) as fake, aiohttp.ClientSession() as http:
        await fill(fake, http)
        await chromium.open(fake.url + "/_calls")
        seen = await chromium.evaluate(PROBE)
    assert seen["seqs"] == [3, 2, 1]
    assert seen["rejected"] == [2]
    assert seen["rejectedText"][0].startswith("400 rejected")
    assert "body.Type must be a BlobLinkType name or number" in seen["rejectedText"][0]
    assert seen["backgrounds"][1] != seen["backgrounds"][0]  # the rejected row stands out
    assert [(i["blob"], i["w"], i["h"]) for i in seen["images"]] == [(34, 1, 1), (33, 40, 30)]
    assert all(i["shown"] > 0 for i in seen["images"])
    assert seen["scripts"] == 0 and seen["title"] == "mockserver calls" and seen["hostileShown"]
    assert seen["clientWidth"] > 900  # the 1024x768 window
    assert seen["scrollWidth"] <= seen["clientWidth"]


@needs_chromium
async def test_chromium_loads_images_through_the_admin_token(chromium: Chromium) -> None:
    async with FakeServer(port=0, admin_token="s3cr3t") as fake, aiohttp.ClientSession() as http:
        await fill(fake, http)
        await chromium.open(fake.url + "/_calls?token=s3cr3t")
        seen = await chromium.evaluate(PROBE)
    assert seen["seqs"] == [3, 2, 1]
    assert [(i["w"], i["h"]) for i in seen["images"]] == [(1, 1), (40, 30)]
    assert all(i["src"].endswith("?token=s3cr3t") for i in seen["images"])
