"""Settings of one fake, from Python, the command line or MOCKSERVER_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .contract import INT32_MAX
from .errors import ConfigError
from .journal import DEFAULT_JOURNAL_LIMIT

DEFAULT_MAX_BODY_SIZE = 32 * 1024 * 1024
# What all request bodies being read at once may hold; one body of max_body_size always fits.
DEFAULT_MAX_BODY_MEMORY = 512 * 1024 * 1024
INSTALLATIONS = ("onsite", "online")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that configures one fake. Every field has an environment variable."""

    host: str = "127.0.0.1"
    port: int = 8080
    first_id: int = 1
    strict: bool = False
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    installation: str = "onsite"
    credentials: Any = None  # an auth.CredentialStore, a mapping, or a path to a TOML/JSON file
    journal_limit: int = DEFAULT_JOURNAL_LIMIT
    admin_token: str | None = None
    contracts: Path | None = None
    state: Path | None = None
    log_calls: bool = False
    max_body_memory: int = DEFAULT_MAX_BODY_MEMORY
    allowed_hosts: tuple[str, ...] = ()  # Host names the /_ routes answer besides loopback ones
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.first_id <= INT32_MAX:
            raise ConfigError(f"first_id must be between 1 and {INT32_MAX} (got {self.first_id})")
        if self.max_body_size < 1:
            raise ConfigError(f"max_body_size must be at least 1 byte (got {self.max_body_size})")
        if self.installation not in INSTALLATIONS:
            raise ConfigError(f"installation must be onsite or online (got {self.installation!r})")
        if self.journal_limit < 0:
            raise ConfigError(f"journal_limit must be 0 (unbounded) or more (got {self.journal_limit})")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535 (got {self.port})")
        if self.max_body_memory < 1:
            raise ConfigError(f"max_body_memory must be at least 1 byte (got {self.max_body_memory})")
        if isinstance(self.allowed_hosts, str) or not isinstance(self.allowed_hosts, tuple):
            object.__setattr__(self, "allowed_hosts", split_hosts(self.allowed_hosts))

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


ENV_PREFIX = "MOCKSERVER_"


def _parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false (got {text!r})")


def parse_size(name: str, text: str) -> int:
    """Parse ``1048576``, ``512k``, ``32M`` or ``1G`` (powers of 1024)."""
    raw = text.strip().lower().removesuffix("b").removesuffix("i")
    scale = 1
    if raw and raw[-1] in "kmg":
        scale = {"k": 1024, "m": 1024**2, "g": 1024**3}[raw[-1]]
        raw = raw[:-1]
    try:
        value = int(raw) * scale
    except ValueError:
        raise ConfigError(f"{name} must be a size like 1048576, 512k or 32M (got {text!r})") from None
    return value


def split_hosts(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"a.test, b.test:8080"`` or a list of names → a tuple of names, blanks dropped."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(h.strip() for h in items if h.strip())


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read MOCKSERVER_<FIELD> variables into settings values."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        key = ENV_PREFIX + f.name.upper()
        if key not in env:
            continue
        text = env[key]
        if f.name in {"port", "first_id", "journal_limit"}:
            try:
                out[f.name] = int(text)
            except ValueError:
                raise ConfigError(f"{key} must be a whole number (got {text!r})") from None
        elif f.name in {"max_body_size", "max_body_memory"}:
            out[f.name] = parse_size(key, text)
        elif f.name in {"strict", "log_calls"}:
            out[f.name] = _parse_bool(key, text)
        elif f.name == "allowed_hosts":
            out[f.name] = split_hosts(text)
        elif f.name in {"contracts", "state", "credentials"}:
            out[f.name] = Path(text) if text else None
        else:
            out[f.name] = text or None if f.name == "admin_token" else text
    return out
