"""What a record keeps of a request's headers and query: every secret replaced, only what is surely not one kept.

Passwords, tickets, tokens, app tokens, XSRF values and session cookies never reach a call
record: an Authorization header keeps only its scheme name (when it is a known one), a cookie
(``Cookie`` or the obsolete ``Cookie2``) only its name (when it is surely a name), the other
secret headers nothing. A query parameter whose name says it carries a credential
(`secret_query_name`: ``ticket``, ``token``, ``password``, ``client_secret``, ``refresh_token``,
…) keeps its name only. Text that may echo a known secret (an upstream's answer, proxy mode) is
scrubbed of every form of it (`scrub`): as sent, in any letter case, base64- and URL-encoded.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from mockserver.core.vocabulary._printable import printable

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "so-apptoken", "x-xsrf-token"})
REDACTED = "<redacted>"
SCHEMES = {"basic": "Basic", "soticket": "SOTicket", "bearer": "Bearer"}
# Unsupported schemes named in errors: the IANA registry plus common ones. Any other first word
# might be a password sent without a scheme, so it is not repeated back.
KNOWN_OTHER_SCHEMES = {
    s.lower(): s
    for s in (
        "Digest", "Negotiate", "NTLM", "HOBA", "Mutual", "OAuth", "DPoP", "GNAP", "PrivateToken", "Concealed",
        "SCRAM-SHA-1", "SCRAM-SHA-256", "vapid", "AWS4-HMAC-SHA256", "Token", "ApiKey", "Kerberos", "SOToken",
    )
}  # fmt: skip
# A cookie name as RFC 6265 has it (a token), of a sensible length: only such names are kept.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}")
COOKIE_HEADERS = frozenset({"cookie", "cookie2"})
# Query parameter names that carry a credential: any name containing one of these words once
# separators are dropped and letters lowered (``ticket``, ``SOTicket``, ``access_token``,
# ``client_secret``, ``X-XSRF-TOKEN``, ``api-key``, ``pwd``, ``SignedSystemToken``, ``ApplicationToken``).
SECRET_QUERY_WORDS = (
    "ticket", "token", "password", "passwd", "pwd", "secret", "apikey", "credential", "authorization",
    "session", "signature", "cookie",
)  # fmt: skip
SECRET_QUERY_NAMES = frozenset({"auth", "key", "code", "sig", "pass"})  # only as the whole name
_SEPARATORS = re.compile(r"[-_.\s]")
# A secret shorter than this is not searched for in echoed text: it would match everywhere.
SHORTEST_SCRUBBED = 3


def redact_headers(headers: Any) -> tuple[tuple[str, str], ...]:
    """Copy headers with every secret value replaced; the Authorization scheme stays visible.

    The copy is what a record keeps, so its text is made printable (_printable.py).
    """
    out = []
    for key, value in headers.items():
        lowered = key.lower()
        if lowered in {"authorization", "proxy-authorization"}:
            scheme, _, rest = value.strip().partition(" ")
            named = rest.strip() and (scheme.lower() in SCHEMES or scheme.lower() in KNOWN_OTHER_SCHEMES)
            value = f"{scheme} {REDACTED}" if named else REDACTED
        elif lowered in SECRET_HEADERS:
            value = REDACTED
        elif lowered in COOKIE_HEADERS:
            value = redact_cookies(value)
        out.append((printable(key), printable(value)))
    return tuple(out)


def redact_cookies(value: str) -> str:
    """Session cookies are as secret as the XSRF token: keep only names, and only what is surely a name.

    ``name=value`` keeps its name when the name is a cookie-name token; any other piece (no ``=``,
    an odd name, nothing but ``=`` after it: the padding of a bare base64 secret) is all ``<redacted>``.
    """
    parts = []
    for part in value.split(";"):
        if not part.strip():
            continue
        name, eq, rest = part.partition("=")
        name = name.strip()
        shaped = eq and rest.strip().strip("=") and _COOKIE_NAME.fullmatch(name)
        parts.append(f"{name}={REDACTED}" if shaped else REDACTED)
    return "; ".join(parts)


def secret_query_name(name: str) -> bool:
    """True when a query parameter's name says it carries a credential."""
    folded = _SEPARATORS.sub("", name).lower()
    return folded in SECRET_QUERY_NAMES or any(word in folded for word in SECRET_QUERY_WORDS)


def redact_query(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The query's (name, value) pairs with every credential's value replaced by ``<redacted>``."""
    if not any(secret_query_name(name) for name, _ in pairs):
        return pairs
    return tuple((name, REDACTED if secret_query_name(name) else value) for name, value in pairs)


def query_secrets(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """The credential values a query carries."""
    return [value for name, value in pairs if secret_query_name(name) and value]


def encodings(secret: str) -> set[str]:
    """The forms an echo of `secret` may take: itself, base64 (standard and URL-safe, with and without
    padding) and URL-encoded; `scrub` matches them in any letter case."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return {form for form in forms if len(form) >= SHORTEST_SCRUBBED}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form (`encodings`) of every secret replaced by ``<redacted>``, in any letter case."""
    forms = sorted({form for secret in secrets for form in encodings(secret)}, key=len, reverse=True)
    if not forms:
        return text
    return re.sub("|".join(map(re.escape, forms)), REDACTED, text, flags=re.IGNORECASE)


__all__ = [
    "KNOWN_OTHER_SCHEMES",
    "REDACTED",
    "SCHEMES",
    "SECRET_HEADERS",
    "encodings",
    "query_secrets",
    "redact_cookies",
    "redact_headers",
    "redact_query",
    "scrub",
    "secret_query_name",
]
