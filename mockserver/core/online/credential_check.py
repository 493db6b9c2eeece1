"""The check every API call carrying a credential the fake issued passes: alive, and with its application's token.

A ticket slides with each accepted call; an expired ticket is a 401, an expired access token a
401 or 403 (``expired_token_status``); both in SuperOffice's error shape with the
``SoCredentialsException`` type, the violation saying when the credential was issued, last used
and expired (never the credential itself). Credentials the fake never issued are left to the
header step unless ``issued_only`` is set. The check runs on every call, whatever the header
cache holds, so an expiring credential is never taken for one valid forever.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.core.headers.auth import REALM, TICKET_PREFIX, fingerprint
from mockserver.core.headers.redaction import SCHEMES
from mockserver.core.online.tickets import CredentialBook, Issued, iso
from mockserver.core.vocabulary.errors import ApiError, Violation
from mockserver.core.vocabulary.records import AuthInfo, Pending

CREDENTIAL_ERROR = "SoCredentialsException"


def same_secret(given: str, wanted: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), wanted.encode("utf-8", "surrogateescape"))


def check_call(
    book: CredentialBook, now_of: Callable[[], float], settings: Any, headers: Mapping[str, str], entry: Pending
) -> AuthInfo | None:
    """Who an issued ticket or token is, sliding a ticket's life; None for credentials not issued here.

    Raises the 401 (or 403 for an expired access token, per ``expired_token_status``) for an
    expired credential, a ticket sent without its application's SO-AppToken and, with
    ``issued_only``, a ticket or token this fake never issued.
    """
    if not len(book) and not settings.issued_only:
        return None
    value = headers.get("Authorization")
    if value is None:
        return None
    raw_scheme, _, credential = value.strip().partition(" ")
    scheme, credential = SCHEMES.get(raw_scheme.lower()), credential.strip()
    if scheme is None or not credential or any(c.isspace() for c in credential):
        return None  # the header step names what is wrong with it
    is_ticket = credential.startswith(TICKET_PREFIX)
    if scheme == "SOTicket" and not is_ticket:
        return None
    if scheme == "Basic" and (not is_ticket or settings.installation == "online"):
        return None
    kind = "ticket" if is_ticket else "token"
    issued = book.find(credential)
    if issued is None or issued.kind != kind:
        _never_issued(book, settings, kind, credential, entry)
        return None
    now = now_of()
    if not issued.alive(now):
        _expired(book, settings, issued, now, entry)
    if kind == "ticket" and issued.app_token is not None:
        _check_app_token(book, headers, issued, entry)
    if issued.sliding:
        book.slide(issued, now)  # each accepted call starts its life again
    book.note("accepted", issued.label, f"{issued.label} alive, {issued.story()}", entry)
    return AuthInfo(scheme, issued.label, kind)


def issued_here(book: CredentialBook, headers: Mapping[str, str]) -> bool:
    """Whether the call's Authorization carries a ticket or token this fake issued (a look: nothing changes)."""
    if not len(book):
        return False
    value = headers.get("Authorization")
    if value is None:
        return False
    credential = value.strip().partition(" ")[2].strip()
    return bool(credential) and book.find(credential) is not None


def _never_issued(book: CredentialBook, settings: Any, kind: str, credential: str, entry: Pending) -> None:
    if not settings.issued_only:
        return
    label = fingerprint(kind, credential)
    book.note("refused", label, f"{label} never issued by this fake", entry)
    raise ApiError(
        401,
        [Violation("header.Authorization", f"a {kind} issued by this fake (issued_only)", f"{label}, never issued")],
        headers={"WWW-Authenticate": REALM},
        message=f"The {kind} was not issued by this server (issued_only is on); log in to get one.",
        error_type=CREDENTIAL_ERROR,
    )


def _expired(book: CredentialBook, settings: Any, issued: Issued, now: float, entry: Pending) -> None:
    kind = issued.kind
    status = 401 if kind == "ticket" else settings.expired_token_status
    book.note("expired", issued.label, f"{issued.label} expired {iso(issued.expires)}", entry)
    life = "6-hour sliding" if kind == "ticket" and issued.life_s == 21600 else f"{issued.life_s:g}-second"
    what = "ticket" if kind == "ticket" else "access token"
    again = "authenticate again" if kind == "ticket" else "refresh it with the refresh token"
    raise ApiError(
        status,
        [
            Violation(
                "header.Authorization",
                f"a {what} that has not expired ({life} life)",
                f"{issued.label}, {issued.story()}; the clock reads {iso(now)}",
            )
        ],
        headers={"WWW-Authenticate": REALM} if status == 401 else {},
        message=f"The {what} expired at {iso(issued.expires)} (issued {iso(issued.issued)}); {again}.",
        error_type=CREDENTIAL_ERROR,
    )


def _check_app_token(book: CredentialBook, headers: Mapping[str, str], issued: Issued, entry: Pending) -> None:
    assert issued.app_token is not None
    given = (headers.get("SO-AppToken") or "").strip()
    if given and same_secret(given, issued.app_token):
        return
    got = "no SO-AppToken" if not given else "another application's token"
    book.note("refused", issued.label, f"{issued.label} sent with {got}", entry)
    raise ApiError(
        401,
        [
            Violation(
                "header.SO-AppToken",
                f"the application token of {issued.app_name}, which the ticket was issued to",
                got,
            )
        ],
        headers={"WWW-Authenticate": REALM},
        message=f"The ticket was issued to {issued.app_name}; send its application token in SO-AppToken.",
        error_type=CREDENTIAL_ERROR,
    )


__all__ = ["CREDENTIAL_ERROR", "check_call", "same_secret"]
