"""Take the picture of the /_calls page that the README and the docs show: docs/img/calls-page.png.

A real fake (ThreadedFakeServer on a free port) gets real calls: two accepted saves with real
images (a 48x48 PNG and a 1x1 GIF, one of them in XML through a tenant prefix), one rejected
save (a Type that is not a BlobLinkType) and one accepted with a warning (a property the call
does not have). Headless Chromium then renders http://127.0.0.1:PORT/_calls and writes the PNG.

    make screenshots                      # or: .venv/bin/python scripts/screenshots.py [OUT]

Needs /usr/bin/chromium (Debian's package: apt-get install chromium), or CHROMIUM=/path/to/it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path

from PIL import Image, ImageChops

from mockserver import ThreadedFakeServer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "calls-page.png"
SAVE = "/api/v1/Agents/BLOB/SaveImageStream"
BASIC = "Basic dGplMDpUamUw"  # tje0:Tje0, the sample credentials of SuperOffice's documentation
# A complete 1x1 GIF (a white pixel), as a browser can decode it.
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


def png(size: int = 48) -> bytes:
    """A size x size RGB PNG: four coloured quarters with a white diagonal, so the thumbnail shows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    quarters = ((0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E), (0x2C, 0xA0, 0x2C), (0xD6, 0x27, 0x28))
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0 for each scanline
        for x in range(size):
            if abs(x - y) <= 1:
                row += b"\xff\xff\xff"
            else:
                row += bytes(quarters[(y >= size // 2) * 2 + (x >= size // 2)])
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"".join(rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def post(url: str, body: bytes, content_type: str, authorization: str = BASIC) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, "Authorization": authorization}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to 127.0.0.1
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def make_calls(fake: ThreadedFakeServer) -> None:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    def save_json(body: dict[str, object], prefix: str = "") -> int:
        return post(fake.url + prefix + SAVE, json.dumps(body).encode(), "application/json")

    statuses = [
        save_json({"Type": "PersonImage", "Image": b64(png()), "Description": "profile picture"}),
        post(
            fake.url + "/Cust12345" + SAVE,
            f"<request><Type>ProjectImage</Type><Image>{b64(GIF)}</Image>"
            "<Description>project logo</Description></request>".encode(),
            "application/xml",
            authorization="SOTicket 7T:dGplMA==",
        ),
        save_json({"Type": "Selfie", "Image": b64(png()), "Description": "not a BlobLinkType"}),
        save_json({"Type": "PersonImage", "Image": b64(GIF), "Description": "with a caption", "Caption": "me"}),
    ]
    if statuses != [200, 200, 400, 200]:
        raise SystemExit(f"screenshots: the calls were answered {statuses}, expected [200, 200, 400, 200]")
    if len(fake.calls.last.warnings) != 1:
        raise SystemExit(f"screenshots: expected one warning on the last call, got {fake.calls.last.warnings}")


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SystemExit("screenshots: no Chromium (apt-get install chromium, or set CHROMIUM=/path/to/it)")
    return found


def screenshot(url: str, out: Path, width: int = 1200, height: int = 800) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mockserver-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.is_file():
        raise SystemExit(f"screenshots: chromium exited {done.returncode}:\n{done.stderr[-2000:]}")
    trim(out)


MARGIN = 16  # px of background kept below the content


def trim(path: Path) -> None:
    """Cut the window's empty background below the page's content, so no blank band follows the picture."""
    with Image.open(path) as shot:
        image = shot.convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box is not None and box[3] + MARGIN < image.height:
        image.crop((0, 0, image.width, box[3] + MARGIN)).save(path, optimize=True)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    with ThreadedFakeServer(port=0, first_id=33) as fake:
        make_calls(fake)
        screenshot(fake.url + "/_calls", out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
