"""Request bodies and headers the benchmarks send: one small image in each encoding, and big ones."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from urllib.parse import urlencode

SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
AUTH = "Basic dGplMDpUamUw"
# A real 1x1 PNG: the fake sniffs formats and would warn about anything else.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Case:
    """One kind of request: what to send and the status the fake must answer."""

    name: str
    content_type: str
    body: bytes
    expect_status: int

    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, "Authorization": AUTH, "Accept": "application/json"}


def json_body(image: bytes, image_b64: str | None = None) -> bytes:
    b64 = image_b64 if image_b64 is not None else base64.b64encode(image).decode("ascii")
    return json.dumps({"Type": "PersonImage", "Image": b64, "Description": "a picture"}).encode()


def xml_body(image: bytes) -> bytes:
    b64 = base64.b64encode(image).decode("ascii")
    return (
        "<SaveImageStream><Type>PersonImage</Type>"
        f"<Image>{b64}</Image><Description>a picture</Description></SaveImageStream>"
    ).encode()


def form_body(image: bytes) -> bytes:
    b64 = base64.b64encode(image).decode("ascii")
    return urlencode({"Type": "PersonImage", "Image": b64, "Description": "a picture"}).encode()


def small_cases() -> list[Case]:
    """The four small requests of rows 1 and 2."""
    return [
        Case("json", "application/json", json_body(PNG_1X1), 200),
        Case("xml", "application/xml", xml_body(PNG_1X1), 200),
        Case("form", "application/x-www-form-urlencoded", form_body(PNG_1X1), 200),
        Case("bad base64", "application/json", json_body(b"", image_b64="not*base64!"), 400),
    ]


def big_image(size: int) -> bytes:
    """`size` bytes that sniff as PNG; random so nothing along the way can shortcut them."""
    return PNG_SIGNATURE + os.urandom(size - len(PNG_SIGNATURE))


def big_case(size: int) -> Case:
    return Case(f"json {size // (1024 * 1024)} MiB", "application/json", json_body(big_image(size)), 200)
