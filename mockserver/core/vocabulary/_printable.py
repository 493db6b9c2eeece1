r"""Text every record can carry: lone surrogates and undecodable header bytes, escaped without loss.

A .NET string is UTF-16 and holds a lone surrogate (JSON's ``"\ud800"``) as it holds any other
character; aiohttp reads a header byte that is not UTF-8 as a surrogate too (U+DC80 to U+DCFF,
Python's ``surrogateescape``). UTF-8 can carry neither, so such text could reach neither
``/_calls``, the HTML page nor the state file. It is kept escaped instead:

- ``\`` becomes ``\\``;
- a surrogate U+DC80 to U+DCFF (the stand-in for an undecodable byte 0x80 to 0xFF) becomes
  ``\xHH``: the 4 characters backslash, ``x`` and the byte in two lower-case hex digits (``\xf8``);
- any other surrogate becomes ``\uXXXX``: backslash, ``u`` and four lower-case hex digits (``\ud800``).

Text that UTF-8 can carry is kept as it came, with one exception: text that already holds
what `restore` would read as one of these escapes (a backslash, then ``x`` and two lower-case
hex digits from 80 to ff, or ``u`` and four from d800 to dfff) is escaped the same way, so its
backslashes double. Escaped text therefore always holds such a sequence and text kept as it came
never does: `restore(printable(text)) == text` for every text, and a literal backslash in what the
client sent stays distinguishable from an escape.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_TO_ESCAPE = re.compile("[\\\\\ud800-\udfff]")
_LOOKS_ESCAPED = re.compile(r"\\(?:x[89a-f][0-9a-f]|ud[89a-f][0-9a-f]{2})")
_ESCAPED = re.compile(r"\\(\\|x[89a-f][0-9a-f]|ud[89a-f][0-9a-f]{2})")


def encodable(text: str) -> bool:
    """True when UTF-8 can carry `text` (it holds no surrogate)."""
    return text.isascii() or _SURROGATE.search(text) is None


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x5C:  # the backslash
        return "\\\\"
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` unchanged when it needs no escaping (the usual case), else escaped as the module says."""
    if "\\" not in text:
        if text.isascii() or _SURROGATE.search(text) is None:
            return text
    elif _LOOKS_ESCAPED.search(text) is None and encodable(text):
        return text
    return _TO_ESCAPE.sub(_escape_char, text)


def escape_surrogates(text: str) -> str:
    r"""Only the surrogates of `text` as ``\xHH`` or ``\uXXXX``, for text whose backslashes are already doubled.

    `errors.preview` quotes client text that way (its own quoting doubles backslashes).
    """
    return text if encodable(text) else _SURROGATE.sub(_escape_char, text)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code == "\\":
        return "\\"
    if code[0] == "x":
        return chr(0xDC00 + int(code[1:], 16))
    return chr(int(code[1:], 16))


def restore(text: str) -> str:
    """The original of a `printable` text: ``restore(printable(t)) == t`` for every string `t`."""
    if "\\" not in text or _LOOKS_ESCAPED.search(text) is None:
        return text
    return _ESCAPED.sub(_unescape, text)


__all__ = ["encodable", "escape_surrogates", "printable", "restore"]
