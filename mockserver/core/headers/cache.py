"""What the header steps conclude from one header set, kept per fake, and the header size rule.

A client sends the same header set on every call, so negotiation, authentication, locale and
Content-Type are worked out once per set and reused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.core.headers.negotiation import Answer, RequestMedia
from mockserver.core.vocabulary.errors import ApiError, Violation
from mockserver.core.vocabulary.records import AuthInfo, Locale
from mockserver.core.vocabulary.slots import drop_oldest

# IIS (http.sys MaxFieldLength) refuses a header longer than 16 KiB with 400; the shell lets such
# headers through (http.runner.HEADER_PARSER_LIMIT) so the fake answers and journals them itself.
MAX_HEADER_VALUE = 16 * 1024
# A few dozen sets, each small, so a client varying its headers costs little memory.
HEADER_CACHE_SIZE = 64
HEADER_CACHE_MAX_CHARS = 8 * 1024


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What the header steps concluded from one header set that passed them all.

    Only sets that raised nothing are kept, so a cached answer never skips an error. `auth` is
    None when it depends on more than the headers (a credential store: grants expire).
    """

    answer: Answer
    auth: AuthInfo | None
    locale: Locale
    locale_warnings: tuple[Violation, ...]
    request_media: RequestMedia
    content_type: str
    redacted: tuple[tuple[str, str], ...]


class HeaderCache:
    """Header set → `HeaderFacts`, the oldest set dropped first; emptied when its basis changes."""

    def __init__(self) -> None:
        self._facts: dict[tuple[Any, ...], HeaderFacts] = {}
        self._basis: tuple[Any, ...] = ()

    def get(self, key: tuple[Any, ...], basis: tuple[Any, ...]) -> HeaderFacts | None:
        """Return the facts for `key`; `basis` (settings, credentials) replaced means start afresh."""
        if self._basis != basis:
            self._facts = {}
            self._basis = basis
        return self._facts.get(key)

    def remember(self, key: tuple[Any, ...], facts: HeaderFacts) -> None:
        if sum(len(k) + len(v) for k, v in key[1]) > HEADER_CACHE_MAX_CHARS:
            return
        cache = self._facts
        if len(cache) >= HEADER_CACHE_SIZE:
            drop_oldest(cache)
        cache[key] = facts

    def __len__(self) -> int:
        return len(self._facts)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(list(self._facts))


def check_header_sizes(headers: Mapping[str, str]) -> None:
    """Refuse a header value longer than IIS allows, naming it."""
    for name, value in headers.items():
        size = len(value.encode("utf-8", "surrogateescape"))
        if size > MAX_HEADER_VALUE:
            raise ApiError(
                400,
                [Violation(f"header.{name}", f"at most {MAX_HEADER_VALUE} bytes", f"{size} bytes")],
                message=f"The {name} header is {size} bytes long; the limit is {MAX_HEADER_VALUE} bytes.",
            )
