"""Language, culture, timezone and $select: the headers that shape an answer.

Precedence (as SuperOffice documents it): SO-Language overrides Accept-Language; `*` or `x`
in SO-Language turns translation off; SO-Culture overrides the culture, which otherwise
follows the language, and is ignored when no language header is sent at all.
Malformed values are warnings naming the header and the value, and are then ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mockserver.core.vocabulary.errors import Violation, preview
from mockserver.core.vocabulary.records import Locale

NO_TRANSLATION = frozenset({"*", "x"})
TZ_FLAG = "includetzoffset"
MAX_TZ_OFFSET = 14 * 60  # UTC-14:00 .. UTC+14:00 covers every zone in use
_TAG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_QVALUE_RE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")
_ZONE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-/:.]{0,63}")
_SEGMENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _first(headers: Mapping[str, str], name: str, warnings: list[Violation]) -> str | None:
    getall = getattr(headers, "getall", None)
    values = list(getall(name, [])) if getall is not None else [v for v in [headers.get(name)] if v is not None]
    if len(values) > 1:
        warnings.append(Violation(f"header.{name}", "one header", f"{len(values)} {name} headers; used the first"))
    if not values or not values[0].strip():
        return None
    return values[0].strip()


def read_locale(headers: Mapping[str, str]) -> tuple[Locale, list[Violation]]:
    """Compute the effective language/culture/timezone; malformed values become warnings."""
    warnings: list[Violation] = []
    language, translate, language_sent = _language(headers, warnings)
    culture = None
    raw_culture = _first(headers, "SO-Culture", warnings)
    if raw_culture is not None and not _TAG_RE.fullmatch(raw_culture):
        warnings.append(_bad("SO-Culture", "a culture code such as nb-NO or en-US", raw_culture))
        raw_culture = None
    if language_sent:
        culture = raw_culture or language
    timezone, include_offset = _timezone(_first(headers, "SO-TimeZone", warnings), warnings)
    offset = _browser_offset(_first(headers, "SO-Browser-TZ-Offset", warnings), warnings)
    app_token = _first(headers, "SO-AppToken", warnings) is not None
    locale = Locale(
        language=language,
        culture=culture,
        timezone=timezone,
        include_tz_offset=include_offset,
        browser_tz_offset=offset,
        app_token=app_token,
        translate=translate,
    )
    return locale, warnings


def _bad(header: str, expected: str, value: str) -> Violation:
    return Violation(f"header.{header}", expected, preview(value, 60))


def _language(headers: Mapping[str, str], warnings: list[Violation]) -> tuple[str | None, bool, bool]:
    """Return (language, translate, whether any language header was sent)."""
    so_language = _first(headers, "SO-Language", warnings)
    accept = _first(headers, "Accept-Language", warnings)
    if so_language is not None:
        if so_language.lower() in NO_TRANSLATION:
            return None, False, True
        if _TAG_RE.fullmatch(so_language):
            return so_language, True, True
        warnings.append(
            _bad("SO-Language", "a language code such as en or nb, or * / x for no translation", so_language)
        )
    if accept is None:
        return None, True, False
    return _best_accept_language(accept, warnings), True, True


def _best_accept_language(value: str, warnings: list[Violation]) -> str | None:
    best: tuple[float, str] | None = None
    for item in value.split(","):
        if not item.strip():
            continue
        tag, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            name, eq, raw_q = param.partition("=")
            if name.strip().lower() == "q" and eq and _QVALUE_RE.fullmatch(raw_q.strip()):
                q = float(raw_q)
            else:
                warnings.append(_bad("Accept-Language", "language;q=0.0 to 1.0", item.strip()))
                q = -1.0
        if q < 0:
            continue
        if tag != "*" and not _TAG_RE.fullmatch(tag):
            warnings.append(_bad("Accept-Language", "a language code such as en or nb-NO", tag))
            continue
        # `*` means "anything": no preference, so it never picks a language by itself.
        if tag != "*" and q > 0 and (best is None or q > best[0]):
            best = (q, tag)
    return best[1] if best else None


def _timezone(value: str | None, warnings: list[Violation]) -> tuple[str | None, bool]:
    if value is None:
        return None, False
    zone: str | None = None
    include = False
    for part in (p.strip() for p in value.split(",")):
        if part.lower() == TZ_FLAG:
            include = True
        elif zone is None and _ZONE_RE.fullmatch(part):
            zone = part
        else:
            expected = "a timezone id or name (UTC, NO, US-NY), optionally followed by ,includeTZOffset"
            warnings.append(Violation("header.SO-TimeZone", expected, f"{preview(part, 40)} in {preview(value, 60)}"))
    return zone, include


def _browser_offset(value: str | None, warnings: list[Violation]) -> int | None:
    if value is None:
        return None
    expected = f"whole minutes east of UTC between -{MAX_TZ_OFFSET} and {MAX_TZ_OFFSET}"
    try:
        minutes = int(value)
    except ValueError:
        warnings.append(_bad("SO-Browser-TZ-Offset", expected, value))
        return None
    if abs(minutes) > MAX_TZ_OFFSET:
        warnings.append(_bad("SO-Browser-TZ-Offset", expected, value))
        return None
    return minutes


def parse_select(query: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], list[Violation]]:
    """Split ``$select`` (from the query pairs) into property paths such as ``category/id``."""
    raws = [v for k, v in query if k.lower() == "$select"]
    warnings: list[Violation] = []
    if not raws:
        return (), warnings
    if len(raws) > 1:
        warnings.append(Violation("query.$select", "one $select parameter", f"{len(raws)}; used them all"))
    paths: list[str] = []
    for raw in raws:
        for item in raw.split(","):
            path = item.strip()
            if not path:
                if raw.strip():
                    warnings.append(
                        Violation(
                            "query.$select", "property paths between commas", f"an empty entry in {preview(raw, 60)}"
                        )
                    )
                continue
            if not all(_SEGMENT_RE.fullmatch(seg) for seg in path.split("/")):
                warnings.append(
                    Violation("query.$select", "property paths like name or category/id", preview(path, 60))
                )
                continue
            if path not in paths:
                paths.append(path)
    return tuple(paths), warnings
