"""SuperOffice Online's login service in the fake: the system user flow, OAuth refresh, and the
check every API call's issued credential passes.

One `Login` belongs to a fake (its isolated tenants share it, as they share its clock). It
journals every login call in the fake's call journal (secrets as fingerprints only) and keeps
a `CredentialBook` of what it issued. Credentials it never issued are left to the header step
(core/headers/auth.py) unless ``issued_only`` is set.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.core.headers.auth import TICKET_PREFIX, fingerprint, redact_headers
from mockserver.core.headers.redaction import REDACTED
from mockserver.core.online.applications import Application, load_applications
from mockserver.core.online.clock import Clock
from mockserver.core.online.credential_check import check_call, issued_here, same_secret
from mockserver.core.online.jwt_keys import SigningKey, identity_claims
from mockserver.core.online.oauth import OAuthProblem, read_refresh, token_response
from mockserver.core.online.system_user import (
    CONTEXT_NAME,
    LoginProblem,
    check_signature,
    check_stamp,
    parse_signed_token,
    read_request,
)
from mockserver.core.online.tickets import CredentialBook, iso, new_issued
from mockserver.core.vocabulary.errors import ConfigError, Violation, preview
from mockserver.core.vocabulary.journal import CallLog
from mockserver.core.vocabulary.records import NO_AUTH, NO_LOCALE, AuthInfo, CallRecord, Pending

SYSTEM_USER_PATH = "/Login/api/PartnerSystemUser/Authenticate"
OAUTH_TOKENS_PATH = "/login/common/oauth/tokens"
JWKS_PATH = "/login/.well-known/jwks"
# A refresh token lasts as long as the consent; this fake never withdraws one.
FOREVER = float("inf")


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    """What a login call answers (status and JSON body) and the record it left in the journal."""

    status: int
    body: dict[str, Any]
    record: CallRecord


def _secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


class Login:
    """The login service of one fake: issues tickets and tokens on its clock and checks them on each call."""

    def __init__(self, settings: Any, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.applications = load_applications(settings.applications)
        self.key = SigningKey()
        self.book = CredentialBook()
        # Where the fake is served, for the URLs inside tokens issued outside a request (a consent);
        # a server sets it once it is bound.
        self.base_url = f"http://{settings.host}:{settings.port}"

    # ---- the check on every API call ------------------------------------------------------

    def check(self, headers: Mapping[str, str], entry: Pending) -> AuthInfo | None:
        """Who an issued ticket or token is, sliding a ticket's life; None for credentials not issued here
        (see credential_check.py for the 401s and 403s)."""
        return check_call(self.book, self.clock.now, self.settings, headers, entry)

    def issued(self, headers: Mapping[str, str]) -> bool:
        """Whether the call's credential is one this service issued: then a credential store is not asked."""
        return issued_here(self.book, headers)

    # ---- the system user flow --------------------------------------------------------------

    def system_user(
        self, body: bytes, headers: Mapping[str, str], path: str, base_url: str, journal: CallLog
    ) -> LoginAnswer:
        """``POST /Login/api/PartnerSystemUser/Authenticate``: a JWT holding a new ticket, or why not."""
        now = self.clock.now()
        summary: dict[str, Any] = {}
        try:
            request = read_request(body)
            summary = {
                "SignedSystemToken": fingerprint("signed", request.signed_token),
                "ApplicationToken": REDACTED,
                "ContextIdentifier": request.context,
                "ReturnTokenType": "JWT",
            }
            app = self.applications.find(request.application_token)
            if app is None and self.applications:
                raise LoginProblem(
                    "body.ApplicationToken",
                    "the application_token of a configured application",
                    "an unknown application token",
                    "ApplicationToken is not known: no configured application has it.",
                )
            signed = parse_signed_token(request.signed_token)
            check_stamp(signed, now, self.settings.signed_token_window_s)
            if app is not None and app.public_key is not None:
                check_signature(signed, app.public_key, app.name)
        except LoginProblem as problem:
            violation = Violation(problem.location, problem.expected, problem.got)
            record = self.journal_call(journal, "POST", path, headers, 200, summary, (violation,), {})
            self.book.note("login_failed", "", problem.message, record)
            return LoginAnswer(200, {"IsSuccessful": False, "Token": None, "ErrorMessage": problem.message}, record)
        name = app.name if app is not None else "an application not configured here"
        ticket = self._issue("ticket", request.context, name, request.application_token, None, now)
        # The JWT's iat/nbf/exp are on the machine's clock, so a client checking them with its own
        # clock accepts the token whatever the test did to the fake's; the ticket's life is the fake's.
        token = self.key.sign(
            identity_claims(request.context, base_url, ticket, time.time(), self.settings.ticket_life_s)
        )
        issued = self.book.find(ticket)
        assert issued is not None
        extra = {"login": "system user", "credential": issued.label, "issued": iso(now), "expires": iso(issued.expires)}
        record = self.journal_call(journal, "POST", path, headers, 200, summary, (), extra)
        self.book.note("authenticated", issued.label, f"system user of {request.context} got {issued.label}", record)
        return LoginAnswer(200, {"IsSuccessful": True, "Token": token, "ErrorMessage": ""}, record)

    # ---- OAuth ------------------------------------------------------------------------------

    def oauth_tokens(
        self, params: Mapping[str, str], headers: Mapping[str, str], path: str, base_url: str, journal: CallLog
    ) -> LoginAnswer:
        """``POST /login/common/oauth/tokens`` with grant_type=refresh_token: a new access token, or the OAuth error."""
        now = self.clock.now()
        summary = {
            k: (REDACTED if k in ("client_secret", "refresh_token") else preview(v, 60)) for k, v in params.items()
        }
        try:
            request = read_refresh(params)
            summary["refresh_token"] = fingerprint("refresh", request.refresh_token)
            issued = self.book.find(request.refresh_token)
            if issued is None or issued.kind != "refresh":
                raise OAuthProblem(
                    "invalid_grant",
                    "refresh_token was not issued by this server (or the fake was reset since); "
                    "a first token pair comes from POST /_oauth/consent or fake.oauth_consent().",
                )
            if issued.client_id != request.client_id:
                raise OAuthProblem(
                    "invalid_client", "client_id is not the client the refresh token was issued to.", 401
                )
            if issued.app_token is not None and not same_secret(request.client_secret, issued.app_token):
                raise OAuthProblem(
                    "invalid_client", f"client_secret is wrong for client_id {preview(request.client_id, 40)}.", 401
                )
        except OAuthProblem as problem:
            violation = Violation("oauth", "a refresh request this server can grant", problem.description)
            record = self.journal_call(journal, "POST", path, headers, problem.status, summary, (violation,), {})
            self.book.note("login_failed", "", problem.description, record)
            return LoginAnswer(problem.status, problem.body(), record)
        pair = self._pair(
            issued.context, issued.app_name, issued.app_token, issued.client_id, base_url, now, request.refresh_token
        )
        access = self.book.find(str(pair["access_token"]))
        assert access is not None
        extra = {
            "login": "oauth refresh",
            "credential": access.label,
            "issued": iso(now),
            "expires": iso(access.expires),
        }
        record = self.journal_call(journal, "POST", path, headers, 200, summary, (), extra)
        self.book.note("authenticated", access.label, f"refresh of {issued.label} gave {access.label}", record)
        return LoginAnswer(200, pair, record)

    def consent(
        self, context: str, client_id: str, client_secret: str | None, base_url: str | None = None
    ) -> dict[str, Any]:
        """A first token pair, as a user's consent in a browser would give: the tests' way in.

        With applications configured, `client_id` must be one of theirs and `client_secret` (when
        given) its application token. Raises ConfigError naming what is wrong.
        """
        if not CONTEXT_NAME.fullmatch(context):
            raise ConfigError(f"context {preview(context, 40)} is not a tenant name such as Cust12345")
        if not client_id.strip():
            raise ConfigError("client_id must be a non-empty string")
        app: Application | None = self.applications.by_client_id(client_id) if self.applications else None
        if self.applications and app is None:
            raise ConfigError(f"client_id {preview(client_id, 40)} is not the client_id of a configured application")
        if app is not None and client_secret is not None and not same_secret(client_secret, app.application_token):
            raise ConfigError(f"client_secret is not the application token of {app.name}")
        secret = app.application_token if app is not None else client_secret
        name = app.name if app is not None else f"client {preview(client_id, 40)}"
        now = self.clock.now()
        refresh = self._issue("refresh", context, name, secret, client_id, now)
        return self._pair(context, name, secret, client_id, base_url or self.base_url, now, refresh)

    def _pair(
        self,
        context: str,
        name: str,
        app_token: str | None,
        client_id: str | None,
        base_url: str,
        now: float,
        refresh: str,
    ) -> dict[str, Any]:
        life = self.settings.access_token_life_s
        access = self._issue("token", context, name, app_token, client_id, now)
        ticket = self._issue("ticket", context, name, app_token, client_id, now)
        id_token = self.key.sign(
            identity_claims(context, base_url, ticket, time.time(), life)
        )  # machine time, as above
        return token_response(access, life, refresh, id_token)

    def _issue(
        self, kind: Any, context: str, name: str, app_token: str | None, client_id: str | None, now: float
    ) -> str:
        if kind == "ticket":
            secret, life = _secret(TICKET_PREFIX), float(self.settings.ticket_life_s)
        elif kind == "token":
            secret, life = _secret(f"8A:{context}."), float(self.settings.access_token_life_s)
        else:
            secret, life = _secret(), FOREVER
        self.book.issue(
            secret,
            new_issued(
                kind,
                secret,
                context=context,
                app_name=name,
                app_token=app_token,
                client_id=client_id,
                now=now,
                life_s=life,
            ),
        )
        return secret

    @staticmethod
    def journal_call(
        journal: CallLog,
        method: str,
        path: str,
        headers: Mapping[str, str],
        status: int,
        request: dict[str, Any],
        violations: tuple[Violation, ...],
        extra: dict[str, Any],
    ) -> CallRecord:
        """Journal one call to the login service (secrets already replaced by fingerprints)."""
        record = CallRecord(
            seq=journal.next_seq(),
            time=time.time(),
            method=method,
            path=path,
            prefix="",
            operation=None,
            query=(),
            select=(),
            headers=redact_headers(headers),
            auth=NO_AUTH,
            locale=NO_LOCALE,
            request=request,
            status=status,
            blob_id=None,
            violations=violations,
            warnings=(),
            response_type="application/json",
            extra=extra,
        )
        journal.append(record)
        return record


__all__ = ["JWKS_PATH", "OAUTH_TOKENS_PATH", "SYSTEM_USER_PATH", "Login", "LoginAnswer"]
