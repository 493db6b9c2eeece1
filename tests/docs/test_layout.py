"""The built site as a reader at a laptop's 1280 px sees it, in headless Chromium.

Inline code (a setting, an option, a variable) never breaks inside a word (code with spaces, a
JSON value, may wrap at its spaces), and no code block or table scrolls sideways. Each page is
also photographed (full length) into a temporary folder, or into MOCKSERVER_DOCS_SHOTS when set:
`make docs-screenshots` writes them to site-screenshots/ to look at.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from ..http.test_page import Chromium, chromium, needs_chromium

__all__ = ["chromium"]  # the fixture, used by name below

WIDTH, HEIGHT = 1280, 800
PAGES = [
    "",
    "getting-started",
    "pytest",
    "service",
    "journal",
    "reference/configuration",
    "reference/cli",
    "reference/api",
]

# What breaks the layout, read from the rendered page in one go.
PROBE = """(() => {
  const text = e => e.textContent.trim().slice(0, 80);
  const inline = [...document.querySelectorAll(".md-typeset td code, .md-typeset p > code, .md-typeset li > code")];
  const scrolling = [...document.querySelectorAll(".md-typeset pre > code, .md-typeset__scrollwrap")];
  // Every word of inline code (an identifier, or a word of a JSON value) on one line: lines break
  // only at spaces. A word's range on two lines has rectangles at two heights.
  const textNodes = code => {
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  };
  const brokenWords = code => textNodes(code).flatMap(node => {
    const found = [];
    for (const m of node.data.matchAll(/[^ \\t\\n]+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) found.push(m[0]);
    }
    return found;
  });
  return {
    identifiers: inline.length,
    blocks: scrolling.length,
    broken: inline.flatMap(brokenWords),
    sideways: scrolling.filter(e => e.scrollWidth > e.clientWidth + 1).map(text),
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    height: document.documentElement.scrollHeight,
  };
})()"""


def shots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MOCKSERVER_DOCS_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def photograph(chromium: Chromium, out: Path, height: int) -> None:
    await chromium.send(
        "Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1, mobile=False
    )
    shot = await chromium.send("Page.captureScreenshot", format="png")
    out.write_bytes(base64.b64decode(shot["data"]))
    await chromium.send(
        "Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False
    )


@needs_chromium
async def test_at_1280_px_no_identifier_breaks_and_nothing_scrolls_sideways(
    site: Path, chromium: Chromium, tmp_path: Path
) -> None:
    await chromium.send(
        "Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False
    )
    folder = shots_folder(tmp_path)
    problems: dict[str, dict[str, object]] = {}
    for path in PAGES:
        await chromium.open((site / path / "index.html").as_uri())
        seen = await chromium.evaluate(PROBE)
        assert seen["identifiers"] > 0 and seen["blocks"] > 0, path  # the probe found what it checks
        await photograph(chromium, folder / f"{path.replace('/', '-') or 'index'}.png", min(seen["height"], 16000))
        if seen["broken"] or seen["sideways"] or seen["page"] > 0:
            problems[path or "index"] = {k: seen[k] for k in ("broken", "sideways", "page")}
    assert not problems, problems
    assert (folder / "reference-configuration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(os.environ.get("MOCKSERVER_DOCS_SHOTS") is not None, reason="only the pictures were asked for")
@needs_chromium
async def test_the_probe_does_see_a_broken_identifier_and_a_sideways_block(chromium: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(
        '<div class="md-typeset"><table style="width:200px"><tr><td><code style="word-break:break-all">'
        "MOCKSERVER_MAX_BODY_MEMORY_AND_MORE</code></td></tr></table>"
        '<pre><code style="display:block;overflow:auto;width:200px;white-space:pre">'
        + "x" * 300
        + "</code></pre></div>",
        encoding="utf-8",
    )
    await chromium.open(page.as_uri())
    seen = await chromium.evaluate(PROBE)
    assert seen["broken"] == ["MOCKSERVER_MAX_BODY_MEMORY_AND_MORE"]
    assert len(seen["sideways"]) == 1
