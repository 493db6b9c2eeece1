"""Recognise image formats from their first bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .slots import slots_constructor

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
        return new_image_info(len(data), hashlib.sha256(data).hexdigest(), sniff(data))

    def to_json(self) -> dict[str, object]:
        return {"size": self.size, "sha256": self.sha256, "format": self.format}


new_image_info = slots_constructor(ImageInfo)  # one per stored image: see slots.py
