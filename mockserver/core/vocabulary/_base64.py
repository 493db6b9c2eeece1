"""Base64 as .NET's Convert.FromBase64String reads it, with errors that say where it broke."""

from __future__ import annotations

import binascii
import re

_B64_ALPHABET = re.compile(r"[^A-Za-z0-9+/=]")
_WHITESPACE = re.compile(r"[ \t\r\n]")


class Base64Error(ValueError):
    """Text is not base64 under .NET's Convert.FromBase64String rules."""


def decode_base64(text: str) -> bytes:
    """Decode base64 as .NET does: padding required, whitespace allowed anywhere."""
    try:
        return _strict_b64(text)
    except (binascii.Error, ValueError):
        pass
    stripped = _WHITESPACE.sub("", text) if _WHITESPACE.search(text) else text
    try:
        return _strict_b64(stripped)
    except (binascii.Error, ValueError):
        raise Base64Error(_diagnose_b64(text, stripped)) from None


def _strict_b64(text: str) -> bytes:
    if len(text) % 4:
        raise ValueError("length")
    if text.endswith("==="):
        raise ValueError("padding")
    return binascii.a2b_base64(text, strict_mode=True)


def _diagnose_b64(original: str, stripped: str) -> str:
    bad = _B64_ALPHABET.search(original.replace(" ", "").replace("\t", "").replace("\r", "").replace("\n", ""))
    if bad:
        # Report the offset in what the client sent, not in the stripped text.
        ch = bad.group()
        offset = _offset_in_original(original, ch)
        shown = repr(ch)[1:-1] if not ch.isprintable() else ch
        return f"'{shown}' at offset {offset} is not a base64 character"
    pad = stripped.find("=")
    if 0 <= pad < len(stripped) - 2 or (pad >= 0 and stripped[pad:].strip("=")):
        return f"'=' at offset {pad} is padding in the middle of the data"
    if len(stripped) % 4:
        return f"{len(stripped)} base64 characters is not a multiple of 4 (padding missing?)"
    return "not valid base64"


def _offset_in_original(original: str, ch: str) -> int:
    for i, c in enumerate(original):
        if c == ch and c not in " \t\r\n":
            return i
    return -1
