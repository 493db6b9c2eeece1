"""Authentication: schemes per installation type, credential stores, XSRF.

Secrets (passwords, tickets, tokens, app tokens, XSRF values) never reach an error message,
a call record or a log line: principals are user names or short one-way fingerprints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from mockserver.core.headers.credentials import CredentialStore, Grant, load_store
from mockserver.core.headers.redaction import (
    KNOWN_OTHER_SCHEMES,
    REDACTED,
    SCHEMES,
    SECRET_HEADERS,
    redact_cookies,
    redact_headers,
)
from mockserver.core.vocabulary._base64 import Base64Error, decode_base64
from mockserver.core.vocabulary.errors import ApiError, Violation
from mockserver.core.vocabulary.records import AuthInfo

REALM = 'Basic realm="SuperOffice Username or Ticket"'
XSRF_HEADER = "X-XSRF-TOKEN"
XSRF_COOKIE = "XSRF-TOKEN"
TICKET_PREFIX = "7T:"
_AUTH_LOC = "header.Authorization"
_ACCEPTED = {
    "onsite": "Basic base64(user:password), Basic 7T:ticket, SOTicket 7T:ticket or Bearer token",
    "online": "SOTicket 7T:ticket with SO-AppToken, or Bearer token",
}

__all__ = [
    "KNOWN_OTHER_SCHEMES",
    "REALM",
    "REDACTED",
    "SCHEMES",
    "SECRET_HEADERS",
    "CredentialStore",
    "authenticate",
    "fingerprint",
    "load_store",
    "redact_cookies",
    "redact_headers",
]


def fingerprint(kind: str, secret: str) -> str:
    """Name a secret without revealing it: ``ticket#1a2b3c4d`` (sha256, first 8 hex digits)."""
    return f"{kind}#{hashlib.sha256(secret.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


def unauthorized(got: str, message: str, expected: str = "valid credentials", location: str = _AUTH_LOC) -> ApiError:
    """A 401 with the realm header and a Violation naming what was wrong (never the secret)."""
    return ApiError(401, [Violation(location, expected, got)], headers={"WWW-Authenticate": REALM}, message=message)


def _all(headers: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(headers, "getall", None)
    if getall is not None:
        return list(getall(name, []))
    value = headers.get(name)
    return [] if value is None else [value]


def authenticate(headers: Mapping[str, str], settings: Any, store: Any, extra: dict[str, Any]) -> AuthInfo:
    """Check the credentials of a request; return who it is or raise a 401 `ApiError`."""
    installation = getattr(settings, "installation", "onsite")
    values = _all(headers, "Authorization")
    if len(values) > 1:
        raise ApiError(
            400,
            [Violation(_AUTH_LOC, "exactly one Authorization header", f"{len(values)} Authorization headers")],
            message="The request has more than one Authorization header; send exactly one.",
        )
    if not values:
        return _xsrf(headers)
    value = values[0].strip()
    expected = _ACCEPTED[installation]
    if not value:
        raise unauthorized("an empty Authorization header", "The Authorization header is empty.", expected)
    raw_scheme, _, credentials = value.partition(" ")
    credentials = credentials.strip()
    scheme = SCHEMES.get(raw_scheme.lower())
    if scheme is None:
        if not credentials:
            got = "a value without a scheme name"
        elif raw_scheme.lower() in KNOWN_OTHER_SCHEMES:
            got = f"the scheme {KNOWN_OTHER_SCHEMES[raw_scheme.lower()]}"
        else:
            got = "an unknown scheme (not shown: it may be a secret)"
        raise unauthorized(got, f"The Authorization scheme is not supported here; use {expected}.", expected)
    if not credentials:
        raise unauthorized(
            f"the scheme {scheme} with no credentials", f"The {scheme} Authorization has no credentials."
        )
    if scheme == "Basic":
        if installation == "online":
            raise unauthorized(
                "the scheme Basic",
                f"Basic authentication is not available in SuperOffice Online; use {expected}.",
                expected,
            )
        if credentials.startswith(TICKET_PREFIX):
            return _ticket("Basic", credentials, store)
        return _password(credentials, store)
    if scheme == "SOTicket":
        _ticket_shape("SOTicket", credentials)
        if installation == "online":
            _app_token(headers, store, extra)
        return _ticket("SOTicket", credentials, store)
    return _token(credentials, store)


def _password(credentials: str, store: CredentialStore | None) -> AuthInfo:
    expected = "base64 of user:password (or an unencoded 7T: ticket)"
    try:
        # .NET's rules (padding required, whitespace skipped): Python's decoder forgives 'dGplMDpUamUw='.
        raw = decode_base64(credentials)
    except Base64Error:
        raise unauthorized(
            "Basic credentials that are not valid base64",
            "The Basic credentials are not valid base64 of user:password.",
            expected,
        ) from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")  # older clients encode user names in ISO-8859-1
    user, colon, password = decoded.partition(":")
    if not colon:
        raise unauthorized(
            "decoded Basic credentials without a ':'",
            "The Basic credentials must decode to user:password; no ':' was found.",
            expected,
        )
    if not user:
        raise unauthorized("an empty user name", "The Basic credentials have an empty user name.", expected)
    if store is None:
        return AuthInfo("Basic", user, "password")
    found = store.user(user)
    if found is None:
        raise unauthorized(
            f"the unknown user {user!r}", f"Unknown user name {user!r}.", "a user from the credential store"
        )
    name, wanted = found
    if password != wanted:
        raise unauthorized(
            f"a wrong password for the user {name!r}",
            f"Wrong password for the user {name!r}.",
            "the user's password from the credential store",
        )
    return AuthInfo("Basic", name, "password")


def _ticket_shape(scheme: str, ticket: str) -> None:
    if not ticket.startswith(TICKET_PREFIX) or len(ticket) == len(TICKET_PREFIX) or _has_space(ticket):
        raise unauthorized(
            f"a {scheme} value that is not a 7T: ticket",
            f"The {scheme} credentials are not a ticket; a ticket looks like 7T:... with no spaces.",
            "a ticket 7T:...",
        )


def _ticket(scheme: str, ticket: str, store: CredentialStore | None) -> AuthInfo:
    _ticket_shape(scheme, ticket)
    if store is None:
        return AuthInfo(scheme, fingerprint("ticket", ticket), "ticket")
    return AuthInfo(scheme, _granted("ticket", ticket, store.tickets.get(ticket)), "ticket")


def _token(token: str, store: CredentialStore | None) -> AuthInfo:
    if _has_space(token):
        raise unauthorized(
            "a Bearer token containing spaces",
            "The Bearer token contains spaces; a token is one word such as 8A:Cust12345.xxxx.",
            "a token without spaces",
        )
    if store is None:
        return AuthInfo("Bearer", fingerprint("token", token), "token")
    return AuthInfo("Bearer", _granted("token", token, store.tokens.get(token)), "token")


def _granted(kind: str, secret: str, grant: Grant | None) -> str:
    print_ = fingerprint(kind, secret)
    if grant is None:
        raise unauthorized(
            f"an unknown {kind} ({print_})",
            f"The {kind} is not known to this server.",
            f"a {kind} from the credential store",
        )
    if grant.is_expired():
        raise unauthorized(
            f"an expired {kind} ({print_})",
            f"The {kind} has expired; log in again to get a new one.",
            f"a {kind} that has not expired",
        )
    return grant.user or print_


def _app_token(headers: Mapping[str, str], store: CredentialStore | None, extra: dict[str, Any]) -> None:
    value = (headers.get("SO-AppToken") or "").strip()
    if not value:
        raise ApiError(
            401,
            [
                Violation(
                    "header.SO-AppToken", "the partner app's SO-AppToken with SOTicket in Online", "no SO-AppToken"
                )
            ],
            headers={"WWW-Authenticate": REALM},
            message="SOTicket in SuperOffice Online needs the SO-AppToken header (the partner application token).",
        )
    if store is None:
        return
    app = store.app_tokens.get(value)
    if app is None:
        raise ApiError(
            401,
            [Violation("header.SO-AppToken", "an app token from the credential store", "an unknown app token")],
            headers={"WWW-Authenticate": REALM},
            message="The SO-AppToken is not known to this server.",
        )
    extra["app"] = app


def _xsrf(headers: Mapping[str, str]) -> AuthInfo:
    values = _all(headers, XSRF_HEADER)
    expected = f"an Authorization header, or {XSRF_HEADER} equal to the {XSRF_COOKIE} cookie"
    if len(values) > 1:
        raise ApiError(
            400,
            [Violation(f"header.{XSRF_HEADER}", f"exactly one {XSRF_HEADER} header", f"{len(values)} headers")],
            message=f"The request has more than one {XSRF_HEADER} header; send exactly one.",
        )
    token = values[0].strip() if values else ""
    if not token:
        got = f"an empty {XSRF_HEADER} header" if values else f"no Authorization and no {XSRF_HEADER} header"
        raise unauthorized(
            got,
            f"{XSRF_HEADER} HTTP header missing. Send Authorization (Basic, SOTicket or Bearer) "
            f"or {XSRF_HEADER} with the value of the {XSRF_COOKIE} cookie.",
            expected,
            location=f"header.{XSRF_HEADER}" if values else _AUTH_LOC,
        )
    cookie = _cookie(headers, XSRF_COOKIE)
    if cookie is None:
        got, detail = f"no {XSRF_COOKIE} cookie", f"there is no {XSRF_COOKIE} cookie"
    elif token not in {cookie, unquote(cookie)}:
        got, detail = f"a value different from the {XSRF_COOKIE} cookie", "they differ"
    else:
        return AuthInfo("XSRF", fingerprint("xsrf", token), "xsrf")
    raise unauthorized(
        got,
        f"{XSRF_HEADER} HTTP header does not match the {XSRF_COOKIE} cookie: {detail}.",
        expected,
        location=f"header.{XSRF_HEADER}",  # the XSRF token was sent, so name it rather than Authorization
    )


def _cookie(headers: Mapping[str, str], name: str) -> str | None:
    # A hand-written parser: http.cookies stops at the first odd cookie and loses the rest.
    for header in _all(headers, "Cookie"):
        for part in header.split(";"):
            key, eq, value = part.partition("=")
            if eq and key.strip() == name:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                return value
    return None


def _has_space(text: str) -> bool:
    return any(c.isspace() for c in text)
