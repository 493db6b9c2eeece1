"""Recognise image formats from their first bytes, and check the rest with a real decoder (Pillow)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from mockserver.core.vocabulary._bounded import BoundedCache
from mockserver.core.vocabulary.errors import Violation, preview

CONTENT_TYPES = {
    "gif": "image/gif",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "ico": "image/x-icon",
    "svg": "image/svg+xml",
}
FORMAT_NAMES = "GIF, PNG, JPEG, WebP, BMP, ICO or SVG"


def sniff(data: bytes) -> str | None:
    """Return the image format of `data` (``png``, ``gif``, …) or None when unrecognised."""
    head = data[:32]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    if head[:4] == b"\x00\x00\x01\x00" and len(data) >= 22 and head[4:6] != b"\x00\x00":
        return "ico"
    if _looks_like_svg(data):
        return "svg"
    return None


def _looks_like_svg(data: bytes) -> bool:
    text = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text.startswith(b"<"):
        return False
    return b"<svg" in text


def content_type(fmt: str | None) -> str:
    """Return the Content-Type for a sniffed format (octet-stream when unknown)."""
    return CONTENT_TYPES.get(fmt or "", "application/octet-stream")


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the journal keeps about image bytes instead of the bytes themselves."""

    size: int
    sha256: str
    format: str | None

    @classmethod
    def of(cls, data: bytes) -> ImageInfo:
        return cls(size=len(data), sha256=hashlib.sha256(data).hexdigest(), format=sniff(data))

    def to_json(self) -> dict[str, object]:
        return {"size": self.size, "sha256": self.sha256, "format": self.format}


# ---- is it really an image? ----------------------------------------------------------------

# The sniffed format, as Pillow names its decoder. SVG is text: sniffing it is the check.
PILLOW_FORMATS = {"gif": "GIF", "png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "bmp": "BMP", "ico": "ICO"}
# Decoding every pixel finds what verify() misses (a truncated JPEG, a GIF cut after its header);
# it is done up to this many pixels (about 100 MB of RGBA at most). A bigger image is only
# verified: its headers and, for PNG, every chunk's checksum.
LOAD_MAX_PIXELS = 25_000_000
# Clients save the same picture again and again: the verdict is kept per sha256, a bounded few.
_VERDICTS: BoundedCache[str, str] = BoundedCache(256)  # sha256 → "" (readable) or why not


def decode_problem(data: bytes, info: ImageInfo) -> str | None:
    """Why Pillow cannot read `data` as the `info.format` image it starts like; None when it can (or not an image)."""
    fmt = PILLOW_FORMATS.get(info.format or "")
    if fmt is None:
        return None
    verdict = _VERDICTS.get(info.sha256)
    if verdict is None:
        verdict = _pillow_problem(data, fmt) or ""
        _VERDICTS.put(info.sha256, verdict)
    return verdict or None


def image_warning(where: str, data: bytes, info: ImageInfo) -> Violation | None:
    """The warning for bytes that are no image, or an image no decoder can read; None for a real image."""
    if info.format is None:
        return Violation(where, f"an image ({FORMAT_NAMES})", f"{len(data)} bytes starting {preview(data[:8], 8)}")
    problem = decode_problem(data, info)
    if problem is None:
        return None
    name = PILLOW_FORMATS[info.format]
    return Violation(where, f"a decodable {name} image", f"{name} data that Pillow cannot read: {problem}")


def _pillow_problem(data: bytes, fmt: str) -> str | None:
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            image.verify()
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            if image.width * image.height <= LOAD_MAX_PIXELS:
                image.load()
    except UnidentifiedImageError:
        return f"not a {fmt} image Pillow can identify"
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error, ... on bad data
        text = " ".join(str(exc).split())
        return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__
    return None
