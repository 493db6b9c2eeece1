"""The OAuth token endpoint's rules: reading a refresh request and the errors RFC 6749 names.

``POST /login/common/oauth/tokens`` takes its parameters in the query string (as SuperOffice's
docs show) or a form body: ``grant_type=refresh_token``, ``client_id``, ``client_secret`` and
``refresh_token``. An answer that is not a token pair is the OAuth error JSON
``{"error": …, "error_description": …}`` (400, or 401 for ``invalid_client``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.core.vocabulary.errors import preview

GRANT = "refresh_token"
PARAMS = ("grant_type", "client_id", "client_secret", "refresh_token")


class OAuthProblem(Exception):
    """An OAuth error: `error` is RFC 6749's code, `description` names the problem (never a secret)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    client_id: str
    client_secret: str
    refresh_token: str


def read_refresh(params: Mapping[str, str]) -> RefreshRequest:
    """The refresh request's parameters, or the `OAuthProblem` naming the first one missing."""
    grant = params.get("grant_type", "").strip()
    if not grant:
        raise OAuthProblem("invalid_request", "grant_type is missing; this endpoint serves grant_type=refresh_token.")
    if grant != GRANT:
        raise OAuthProblem(
            "unsupported_grant_type",
            f"grant_type {preview(grant, 30)} is not served by this fake; use refresh_token "
            "(a first token pair comes from POST /_oauth/consent or fake.oauth_consent()).",
        )
    values = {}
    for name in PARAMS[1:]:
        value = params.get(name, "").strip()
        if not value:
            raise OAuthProblem("invalid_request", f"{name} is missing.")
        values[name] = value
    return RefreshRequest(values["client_id"], values["client_secret"], values["refresh_token"])


def token_response(access_token: str, expires_in: int, refresh_token: str, id_token: str) -> dict[str, object]:
    """The documented token answer: token_type, access_token, expires_in, refresh_token, id_token."""
    return {
        "token_type": "Bearer",
        "access_token": access_token,
        "expires_in": expires_in,
        "refresh_token": refresh_token,
        "id_token": id_token,
    }


__all__ = ["GRANT", "OAuthProblem", "RefreshRequest", "read_refresh", "token_response"]
