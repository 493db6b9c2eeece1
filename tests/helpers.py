"""Small builders shared by the tests: valid bodies, images, headers."""

from __future__ import annotations

import base64
import json
from typing import Any

SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
# 1x1 images of real formats.
GIF = base64.b64decode("R0lGODlhAQABAAAAACw=")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
BASIC = "Basic dGplMDpUamUw"  # tje0:Tje0, the doc's sample


def save_body(type_: Any = "PersonImage", image: bytes = PNG, description: str = "a picture", **extra: Any) -> bytes:
    body = {"Type": type_, "Image": base64.b64encode(image).decode(), "Description": description, **extra}
    return json.dumps(body).encode()


def json_headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": BASIC, **extra}
