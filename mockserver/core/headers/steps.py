"""The header steps: what one header set says, worked out once, and remembered per fake.

After negotiation (the answer's format, needed even to refuse a call) come the steps every
request's headers pass in order: the header size rule, credentials, language and culture, and
Content-Type. `read_headers` runs them and returns their `HeaderFacts`, or raises the first
refusal; `Fake`'s pipeline and its precheck (which answers a request before its body arrives)
both call it, and the `HeaderCache` keeps what it returned. A client sends the same header set on
every call, so the steps run once per set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockserver.core.headers import auth
from mockserver.core.headers.credentials import CredentialStore
from mockserver.core.headers.locales import read_locale
from mockserver.core.headers.negotiation import Answer, RequestMedia, request_media
from mockserver.core.vocabulary._bounded import BoundedCache
from mockserver.core.vocabulary.contract import Contract
from mockserver.core.vocabulary.errors import ApiError, Violation
from mockserver.core.vocabulary.records import AuthInfo, Locale

# IIS (http.sys MaxFieldLength) refuses a header longer than 16 KiB with 400; the shell lets such
# headers through (http.runner.HEADER_PARSER_LIMIT) so the fake answers and journals them itself.
MAX_HEADER_VALUE = 16 * 1024
# A few dozen sets, each small, so a client varying its headers costs little memory.
HEADER_CACHE_SIZE = 64
HEADER_CACHE_MAX_CHARS = 8 * 1024


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What the header steps concluded from one header set that passed them all.

    `auth` is None in a cached copy when it depends on more than the headers (a credential
    store: grants expire), so every call asks again. `refusal` is the Content-Type step's 415:
    the last step, so a call it refuses still records who it was, its locale and its Content-Type.
    Facts with a refusal are never cached.
    """

    answer: Answer
    auth: AuthInfo | None
    locale: Locale
    locale_warnings: tuple[Violation, ...]
    request_media: RequestMedia | None
    content_type: str | None
    redacted: tuple[tuple[str, str], ...]
    refusal: ApiError | None = None


def read_headers(
    headers: Mapping[str, str],
    contract: Contract,
    answer: Answer,
    settings: Any,
    credentials: CredentialStore | None,
    extra: dict[str, Any],
) -> HeaderFacts:
    """Run the header steps after negotiation, in order: the size rule and credentials raise their
    refusal; the Content-Type step's is returned in the facts (`HeaderFacts.refusal`).

    `extra` receives what authentication adds to the record (an app token's owner).
    """
    check_header_sizes(headers)
    who = auth.authenticate(headers, settings, credentials, extra)
    locale, locale_warnings = read_locale(headers)
    value = headers.get("Content-Type")
    content_type = value if value is not None and value.strip() else None
    body_media: RequestMedia | None = None
    refusal: ApiError | None = None
    try:
        body_media = request_media(content_type, contract)
    except ApiError as err:
        refusal = err
    return HeaderFacts(
        answer=answer,
        auth=who,
        locale=locale,
        locale_warnings=tuple(locale_warnings),
        request_media=body_media,
        content_type=content_type,
        redacted=auth.redact_headers(headers),
        refusal=refusal,
    )


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


Key = tuple[Any, ...]


class HeaderCache:
    """(contract, header set) → the `HeaderFacts` `read_headers` returned; emptied when its basis changes.

    Only sets that passed every step are kept, so a cached answer never skips an error.
    """

    def __init__(self) -> None:
        self._facts: BoundedCache[Key, HeaderFacts] = BoundedCache(HEADER_CACHE_SIZE)
        self._basis: tuple[Any, ...] = ()

    def lookup(
        self, contract: Contract | None, headers: Mapping[str, str], basis: tuple[Any, ...]
    ) -> tuple[Key, HeaderFacts | None]:
        """The key for this request and what is kept for it (None: not seen, or not cacheable: key ``()``).

        `basis` (settings, credentials) replaced means start afresh.
        """
        if self._basis != basis:
            self._facts = BoundedCache(HEADER_CACHE_SIZE)
            self._basis = basis
        key: Key = (id(contract), tuple(headers.items()))
        try:
            return key, self._facts.get(key)
        except TypeError:  # a caller's own Mapping with unhashable values: work it out each time
            return (), None

    def remember(self, key: Key, facts: HeaderFacts, *, per_call_auth: bool) -> None:
        """Keep `facts` for `key`; `per_call_auth` keeps them without the credential, asked again each call."""
        if not key or facts.refusal is not None or sum(len(k) + len(v) for k, v in key[1]) > HEADER_CACHE_MAX_CHARS:
            return
        self._facts.put(key, replace(facts, auth=None) if per_call_auth else facts)

    def __len__(self) -> int:
        return len(self._facts)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._facts)


__all__ = ["MAX_HEADER_VALUE", "HeaderCache", "HeaderFacts", "Key", "check_header_sizes", "read_headers"]
