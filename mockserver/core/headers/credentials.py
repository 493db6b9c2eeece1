"""The credential store: which users, tickets, tokens and app tokens a strict fake accepts.

The same shape loads from TOML, JSON or a Python mapping::

    [users]                        # user name = password
    tje0 = "Tje0"

    [tickets]                      # ticket = the user it belongs to, or a table
    "7T:dGplMA==" = "tje0"
    "7T:b2xk" = { user = "tje0", expired = true }

    [tokens]                       # Bearer token = user, or a table
    "8A:Cust12345.AXRr" = "tje0"
    "8A:Cust12345.old" = { user = "tje0", expires = 2024-01-01T00:00:00Z }

    [app_tokens]                   # SO-AppToken = the partner app's name
    "partner-secret" = "My partner app"
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mockserver.core.vocabulary.errors import ConfigError

SECTIONS = ("users", "tickets", "tokens", "app_tokens")


@dataclass(frozen=True, slots=True)
class Grant:
    """A ticket or token: whose it is and whether it has expired."""

    user: str | None = None
    expired: bool = False
    expires: datetime | None = None

    def is_expired(self, now: datetime | None = None) -> bool:
        if self.expired:
            return True
        return self.expires is not None and (now or datetime.now(UTC)) >= self.expires


@dataclass(frozen=True, slots=True)
class CredentialStore:
    """Credentials a fake accepts; anything not listed is answered with 401."""

    users: Mapping[str, str] = field(default_factory=dict)
    tickets: Mapping[str, Grant] = field(default_factory=dict)
    tokens: Mapping[str, Grant] = field(default_factory=dict)
    app_tokens: Mapping[str, str] = field(default_factory=dict)

    def user(self, name: str) -> tuple[str, str] | None:
        """Find a user by name, case-insensitively as SuperOffice does; return (name, password)."""
        if name in self.users:
            return name, self.users[name]
        lowered = name.lower()
        return next(((n, p) for n, p in self.users.items() if n.lower() == lowered), None)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "credentials") -> CredentialStore:
        """Build a store from the documented shape; errors name the source and key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: must be a table/object with {', '.join(SECTIONS)}")
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r} (expected {', '.join(SECTIONS)})")
        users = _strings(data.get("users", {}), f"{source}: users", "password")
        return cls(
            users=users,
            tickets=_grants(data.get("tickets", {}), f"{source}: tickets", ticket=True),
            tokens=_grants(data.get("tokens", {}), f"{source}: tokens", ticket=False),
            app_tokens=_app_tokens(data.get("app_tokens", {}), f"{source}: app_tokens"),
        )

    @classmethod
    def from_file(cls, path: Path | str) -> CredentialStore:
        """Read a TOML or JSON file (by suffix; other suffixes try TOML, then JSON)."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: cannot read the credential file ({exc})") from None
        suffix = p.suffix.lower()
        parsers = [_toml] if suffix == ".toml" else [_json] if suffix == ".json" else [_toml, _json]
        problems = []
        for parse in parsers:
            try:
                data = parse(text)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            return cls.from_mapping(data, str(p))
        raise ConfigError(f"{p}: not a valid credential file ({'; '.join(problems)})")


def load_store(source: Any) -> CredentialStore | None:
    """None stays None (accept any well-formed credential); paths load; mappings convert."""
    if source is None or isinstance(source, CredentialStore):
        return source
    if isinstance(source, Path | str):
        return CredentialStore.from_file(source)
    if isinstance(source, Mapping):
        return CredentialStore.from_mapping(source)
    raise ConfigError(f"credentials must be a file path, a mapping or a CredentialStore (got {type(source).__name__})")


def _toml(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML: {exc}") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSON: {exc}") from None


def _strings(section: Any, where: str, what: str) -> dict[str, str]:
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: must be a table/object of name = {what}")
    out: dict[str, str] = {}
    for key, value in section.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{where}: names must be non-empty strings")
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: must be a string {what} (got {type(value).__name__})")
        out[key] = value
    return out


def _app_tokens(section: Any, where: str) -> dict[str, str]:
    # A plain list is allowed too, for stores that do not care about app names.
    if isinstance(section, list):
        if not all(isinstance(t, str) and t for t in section):
            raise ConfigError(f"{where}: a list of app tokens must hold non-empty strings")
        return {t: "app" for t in section}
    return _strings(section, where, "app name")


def _grants(section: Any, where: str, *, ticket: bool) -> dict[str, Grant]:
    if isinstance(section, list):
        section = dict.fromkeys(section)  # a bare list: valid, owner unknown
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: must be a table/object of secret = user (or a table with user/expired/expires)")
    out: dict[str, Grant] = {}
    for index, (key, value) in enumerate(section.items()):
        # The key is a secret: errors name its position, never its text.
        label = f"{where}[{index + 1}]"
        if not isinstance(key, str) or not key or any(c.isspace() for c in key):
            raise ConfigError(f"{label}: must be a non-empty string without spaces")
        if ticket and not key.startswith("7T:"):
            raise ConfigError(f"{label}: a ticket must start with '7T:'")
        out[key] = _grant(value, label)
    return out


def _grant(value: Any, label: str) -> Grant:
    if value is None or isinstance(value, str):
        return Grant(user=value or None)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{label}: must be a user name or a table with user/expired/expires")
    unknown = sorted(set(value) - {"user", "expired", "expires"})
    if unknown:
        raise ConfigError(f"{label}: unknown key {unknown[0]!r} (expected user, expired, expires)")
    user, expired, expires = value.get("user"), value.get("expired", False), value.get("expires")
    if user is not None and not isinstance(user, str):
        raise ConfigError(f"{label}.user: must be a string")
    if not isinstance(expired, bool):
        raise ConfigError(f"{label}.expired: must be true or false")
    return Grant(user=user or None, expired=expired, expires=_when(expires, f"{label}.expires"))


def _when(value: Any, label: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{label}: must be an ISO 8601 date-time (got {value!r})") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ConfigError(f"{label}: must be a date-time")
    # A date-time without offset is read as UTC so comparisons never mix naive and aware.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
