"""Authentication: schemes per installation type, credential stores, XSRF."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .journal import NO_AUTH, AuthInfo

SECRET_HEADERS = frozenset({"authorization", "so-apptoken", "x-xsrf-token", "cookie"})
REDACTED = "<redacted>"


def load_store(source: Any) -> Any:
    """Build the credential store from settings (None: accept any well-formed credential)."""
    return source


def authenticate(headers: Mapping[str, str], settings: Any, store: Any, extra: dict[str, Any]) -> AuthInfo:
    """Check the credentials of a request; return who it is or raise a 401 `ApiError`."""
    value = headers.get("Authorization")
    if value is None:
        return NO_AUTH
    scheme, _, _ = value.partition(" ")
    return AuthInfo(scheme=scheme or None, principal=None)


def redact_headers(headers: Any) -> tuple[tuple[str, str], ...]:
    """Copy headers with every secret value replaced."""
    return tuple((k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items())
