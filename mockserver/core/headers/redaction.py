"""What a record keeps of a request's headers: every secret replaced, only what is surely not one kept.

Passwords, tickets, tokens, app tokens, XSRF values and session cookies never reach a call
record: an Authorization header keeps only its scheme name (when it is a known one), a cookie
only its name (when it is surely a name), the other secret headers nothing.
"""

from __future__ import annotations

import re
from typing import Any

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
        elif lowered == "cookie":
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


__all__ = ["KNOWN_OTHER_SCHEMES", "REDACTED", "SCHEMES", "SECRET_HEADERS", "redact_cookies", "redact_headers"]
