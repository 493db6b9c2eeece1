"""The partner applications a fake knows: the ``applications`` setting (``--applications FILE``).

A TOML file with one table per application::

    [[application]]
    name = "My partner app"                # optional, shown in the journal
    application_token = "the-client-secret"  # the SO-AppToken and OAuth client_secret
    client_id = "the-client-id"            # optional: the OAuth client_id it answers to
    public_key = \"\"\"
    -----BEGIN PUBLIC KEY-----
    ...
    -----END PUBLIC KEY-----
    \"\"\"

``public_key`` (PEM, RSA) verifies the application's signed system user tokens. The same shape
loads from a Python mapping (``{"application": [...]}``). Errors name the table by its position,
never the application token (a secret).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from mockserver.core.vocabulary.errors import ConfigError

KEYS = ("name", "application_token", "client_id", "public_key")


@dataclass(frozen=True, slots=True)
class Application:
    """One partner application: its secret token, its OAuth client id and the key it signs with."""

    name: str
    application_token: str
    client_id: str | None
    public_key: RSAPublicKey | None


@dataclass(frozen=True, slots=True)
class Applications:
    """Application token → application; empty means none configured."""

    by_token: Mapping[str, Application]

    def find(self, token: str) -> Application | None:
        return self.by_token.get(token)

    def by_client_id(self, client_id: str) -> Application | None:
        return next((a for a in self.by_token.values() if a.client_id == client_id), None)

    def __bool__(self) -> bool:
        return bool(self.by_token)


NO_APPLICATIONS = Applications({})


def load_applications(source: Any) -> Applications:
    """None → none; a path → its TOML; a mapping → the same shape; an `Applications` as it is."""
    if source is None:
        return NO_APPLICATIONS
    if isinstance(source, Applications):
        return source
    if isinstance(source, Path | str):
        path = Path(source)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the applications file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        return _from_mapping(data, str(path))
    if isinstance(source, Mapping):
        return _from_mapping(source, "applications")
    raise ConfigError(f"applications must be a TOML file path or a mapping (got {type(source).__name__})")


def _from_mapping(data: Mapping[str, Any], where: str) -> Applications:
    tables = data.get("application", [])
    unknown = sorted(set(data) - {"application"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected [[application]] tables)")
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: application must be an array of tables ([[application]])")
    found: dict[str, Application] = {}
    for index, table in enumerate(tables):
        label = f"{where}: application[{index + 1}]"
        app = _application(table, label, index + 1)
        if app.application_token in found:
            raise ConfigError(f"{label}: its application_token is already used by another application")
        found[app.application_token] = app
    return Applications(found)


def _application(table: Any, label: str, number: int) -> Application:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{label}: must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{label}: unknown key {unknown[0]!r} (expected {', '.join(KEYS)})")
    token = table.get("application_token")
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise ConfigError(f"{label}.application_token: must be a non-empty string without spaces")
    name, client_id, pem = table.get("name", f"application {number}"), table.get("client_id"), table.get("public_key")
    if not isinstance(name, str):
        raise ConfigError(f"{label}.name: must be a string")
    if client_id is not None and (not isinstance(client_id, str) or not client_id):
        raise ConfigError(f"{label}.client_id: must be a non-empty string")
    return Application(name, token, client_id, _public_key(pem, f"{label}.public_key"))


def _public_key(pem: Any, label: str) -> RSAPublicKey | None:
    if pem is None:
        return None
    if not isinstance(pem, str):
        raise ConfigError(f"{label}: must be a PEM string (-----BEGIN PUBLIC KEY-----)")
    try:
        key = load_pem_public_key(pem.encode("ascii", "replace"))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{label}: not a PEM public key ({exc})") from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError(f"{label}: must be an RSA key (SuperOffice signs with RSA-SHA256)")
    return key


__all__ = ["NO_APPLICATIONS", "Application", "Applications", "load_applications"]
