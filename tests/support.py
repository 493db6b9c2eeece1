"""Small builders shared by the tests: valid bodies, images, headers, a served fake."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mockserver import Settings

SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
ROOT = Path(__file__).resolve().parent.parent
# The core tests serve this one contract so companion contracts cannot change what they see.
SAVE_CONTRACT = ROOT / "contracts" / "SaveImageStream.toml"
SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# 1x1 images of real formats, each one Pillow decodes. ("R0lGODlhAQABAAAAACw=" is only the first
# 14 bytes of a GIF: the fake warns about it.)
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
BASIC = "Basic dGplMDpUamUw"  # tje0:Tje0, the doc's sample


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def save_body(type_: Any = "PersonImage", image: bytes = PNG, description: str = "a picture", **extra: Any) -> bytes:
    body = {"Type": type_, "Image": b64(image), "Description": description, **extra}
    return json.dumps(body).encode()


def xml_body(
    type_: str = "PersonImage",
    image: bytes = PNG,
    description: str = "a picture",
    *,
    root: str = "SaveImageStream",
    ns: str | None = None,
    encoding: str = "utf-8",
    declaration: bool = True,
) -> bytes:
    """A DataContract-style XML request body, optionally namespaced and in another encoding."""
    xmlns = f' xmlns="{ns}"' if ns else ""
    decl = f'<?xml version="1.0" encoding="{encoding}"?>' if declaration else ""
    text = (
        f'{decl}<{root}{xmlns} xmlns:i="{XSI}"><Type>{type_}</Type><Image>{b64(image)}</Image>'
        f"<Description>{description}</Description></{root}>"
    )
    return text.encode(encoding)


def form_body(
    type_: str = "PersonImage", image: bytes = PNG, description: str = "a picture", encoding: str = "utf-8"
) -> bytes:
    fields = {"Type": type_, "Image": b64(image), "Description": description}
    # The charset covers both the percent-escaped bytes and the text of the body itself.
    return urlencode(fields, encoding=encoding).encode(encoding)


def json_headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": BASIC, **extra}


def headers(content_type: str | None = "application/json", accept: str | None = None, **extra: str) -> dict[str, str]:
    """Authorised request headers; None leaves a header out."""
    out = {"Authorization": BASIC}
    if content_type is not None:
        out["Content-Type"] = content_type
    if accept is not None:
        out["Accept"] = accept
    out.update(extra)
    return out


def core_settings(**overrides: Any) -> Settings:
    """Settings for a fake on a free port serving only the SaveImageStream contract."""
    return Settings(port=0, contracts=SAVE_CONTRACT, **overrides)


# SuperOffice Online's tenant states, as its documentation lists them (ONLINE.md): the tests' own list.
ONLINE_STATES = (
    "Unknown",
    "Provisioning",
    "Running",
    "Deleted",
    "Suspended",
    "OnlineMaintenance",
    "OfflineMaintenance",
    "ProvisioningFailed",
    "Deleting",
    "DeleteFailed",
    "MigrationPending",
)


def serve_on_state(state: Path) -> subprocess.CompletedProcess[str]:
    """``mockserver serve --state STATE --port 0`` run to its end (a start that is refused ends at once)."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--state", str(state), "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
