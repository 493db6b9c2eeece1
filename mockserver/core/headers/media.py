"""Content-Type and Accept parsing, charsets, q-values and response negotiation."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

JSON_TYPES = frozenset({"application/json", "text/json", "application/json-patch+json", "application/merge-patch+json"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded"})


def family(media_type: str) -> str:
    """Return ``json``, ``xml``, ``form`` or ``other`` for a bare media type."""
    if media_type in JSON_TYPES:
        return "json"
    if media_type in XML_TYPES:
        return "xml"
    if media_type in FORM_TYPES:
        return "form"
    return "other"


class MediaError(ValueError):
    """A media-type header cannot be parsed."""


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed ``type/subtype; k=v`` value."""

    type: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")


def _split_params(text: str) -> list[str]:
    """Split on ';' outside double quotes."""
    if '"' not in text:  # the usual header: no quoting, so no need to walk it character by character
        return text.split(";")
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


# Clients send the same few header values again and again: parse each once. Results are
# immutable; a malformed value raises every time (exceptions are not cached).
_CACHE_SIZE = 512


@lru_cache(maxsize=_CACHE_SIZE)
def parse_media_type(value: str) -> MediaType:
    """Parse one media type with parameters; names are lower-cased, quotes removed."""
    head, *rest = _split_params(value)
    mtype = head.strip().lower()
    main, sep, sub = mtype.partition("/")
    if not sep or not main or not sub or len(mtype.split()) != 1:
        raise MediaError(f"'{head.strip()}' is not a type/subtype media type")
    params: dict[str, str] = {}
    for item in rest:
        if not item.strip():
            continue
        name, eq, val = item.partition("=")
        name = name.strip().lower()
        if not eq or not name:
            raise MediaError(f"parameter '{item.strip()}' is not name=value")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        params[name] = val
    return MediaType(mtype, MappingProxyType(params))


def charset_codec(name: str) -> str | None:
    """Return Python's codec name for a charset label, or None when unknown."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    # Only text encodings: 'rot13', 'base64' and friends are codecs but not charsets.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


@dataclass(frozen=True, slots=True)
class AcceptItem:
    media: str
    q: float
    order: int

    @property
    def specificity(self) -> int:
        if self.media == "*/*":
            return 0
        if self.media.endswith("/*"):
            return 1
        return 2

    def matches(self, offered: str) -> bool:
        if self.media == "*/*":
            return True
        if self.media.endswith("/*"):
            return offered.startswith(self.media[:-1])
        return self.media == offered


@lru_cache(maxsize=_CACHE_SIZE)
def parse_accept(value: str) -> tuple[tuple[AcceptItem, ...], tuple[str, ...]]:
    """Parse an Accept header into its entries and a note for each malformed entry.

    A malformed entry is skipped rather than spoiling the whole header, as lenient servers do.
    """
    items: list[AcceptItem] = []
    problems: list[str] = []
    for order, part in enumerate(p for p in value.split(",") if p.strip()):
        try:
            mt = parse_media_type(part)
        except MediaError as exc:
            problems.append(str(exc))
            continue
        q = 1.0
        if "q" in mt.params:
            raw = mt.params["q"]
            try:
                q = float(raw)
            except ValueError:
                problems.append(f"q-value '{raw}' of '{mt.type}' is not a number")
                continue
            if not 0.0 <= q <= 1.0:  # also false for NaN
                problems.append(f"q-value '{raw}' of '{mt.type}' is not between 0 and 1")
                continue
        items.append(AcceptItem(mt.type, q, order))
    return tuple(items), tuple(problems)


@lru_cache(maxsize=_CACHE_SIZE)
def negotiate(items: tuple[AcceptItem, ...], offered: tuple[str, ...], prefer: str | None = None) -> str | None:
    """Pick the offered type the client prefers most, or None when none is acceptable.

    Each offered type takes the q of the most specific Accept entry that matches it
    (RFC 9110 §12.5.1). Ties go to the more specific entry, then to the entry the client
    listed first (as ASP.NET Web API does), then to `prefer` (the request's own format, so
    ``*/*`` answers XML to an XML request), then to the server's order of preference.
    """
    best: tuple[float, int, int, bool, int] | None = None
    chosen = None
    for rank, media in enumerate(offered):
        match = None
        for item in items:
            if item.matches(media) and (match is None or item.specificity > match.specificity):
                match = item
        if match is None or match.q <= 0:
            continue
        key = (match.q, match.specificity, -match.order, media == prefer, -rank)
        if best is None or key > best:
            best, chosen = key, media
    return chosen
