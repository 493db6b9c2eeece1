"""Settings of one fake, from Python, the command line or MOCKSERVER_* environment variables.

Each field of `Settings` carries its own help text, value kind and command-line option in its
metadata: the CLI builds `mockserver serve`'s options from them and the docs' configuration
reference is generated from them, so the three cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mockserver.core.storage.errors import DEFAULT_IMAGE_BUDGET
from mockserver.core.vocabulary.contract import INT32_MAX
from mockserver.core.vocabulary.errors import ConfigError
from mockserver.core.vocabulary.journal import DEFAULT_JOURNAL_LIMIT

DEFAULT_MAX_BODY_SIZE = 32 * 1024 * 1024
# What all request bodies being read at once may hold; one body of max_body_size always fits.
DEFAULT_MAX_BODY_MEMORY = 512 * 1024 * 1024
# A body trickling slower than this holds its share of the body budget for no one's benefit;
# the rate applies once a body has had BODY_RATE_GRACE seconds (a client may pause at the start).
DEFAULT_MIN_BODY_RATE = 1024
BODY_RATE_GRACE = 10.0
# A request line and headers come in one packet from any real client; a trickle is an attack.
DEFAULT_HEADER_TIMEOUT = 10
DEFAULT_IDLE_TIMEOUT = 60
INSTALLATIONS = ("onsite", "online")
TENANT_MODES = ("shared", "isolated")
LOG_FORMATS = ("text", "json")
LOOPS = ("asyncio", "uvloop")
DEFAULT_MAX_TENANTS = 1000
ENV_PREFIX = "MOCKSERVER_"
SECRET_FIELDS = frozenset({"admin_token", "credentials"})


def _meta(
    help: str, kind: str = "str", choices: tuple[str, ...] = (), cli: bool = True, shell_only: bool = False
) -> dict[str, Any]:
    """Describe a setting: `kind` is how its text is read (str, int, size, bool, path, choice, hosts).

    `shell_only` marks what only `mockserver serve` decides (its log lines, its event loop): no
    marker keyword or fixture takes it.
    """
    return {"help": help, "kind": kind, "choices": choices, "cli": cli, "shell_only": shell_only}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that configures one fake. Every field has an environment variable."""

    host: str = field(default="127.0.0.1", metadata=_meta("address to bind"))
    port: int = field(default=8080, metadata=_meta("port to bind; 0 picks a free one", "int"))
    first_id: int = field(default=1, metadata=_meta("the first blob id handed out", "int"))
    strict: bool = field(default=False, metadata=_meta("turn every warning into a 400", "bool"))
    max_body_size: int = field(
        default=DEFAULT_MAX_BODY_SIZE, metadata=_meta("largest request body, e.g. 512k or 32M; past it 413", "size")
    )
    max_body_memory: int = field(
        default=DEFAULT_MAX_BODY_MEMORY,
        metadata=_meta("bytes all request bodies being read may hold at once; past it 503 with Retry-After", "size"),
    )
    min_body_rate: int = field(
        default=DEFAULT_MIN_BODY_RATE,
        metadata=_meta(
            f"bytes a second a request body must average once its first {BODY_RATE_GRACE:g} s have passed; "
            "behind it 408 and the connection closed; 0 turns it off",
            "size",
        ),
    )
    header_timeout: int = field(
        default=DEFAULT_HEADER_TIMEOUT,
        metadata=_meta(
            "seconds a request's line and headers may take to arrive; past it 408 and the connection closed",
            "int",
        ),
    )
    idle_timeout: int = field(
        default=DEFAULT_IDLE_TIMEOUT,
        metadata=_meta("seconds a keep-alive connection may sit idle between requests before it is closed", "int"),
    )
    max_connections: int = field(
        default=0,
        metadata=_meta(
            "connections open at once; one more closes the one longest waiting for a request, or is refused "
            "503 when all are busy; 0: the open-file limit less a reserve",
            "int",
        ),
    )
    installation: str = field(
        default="onsite",
        metadata=_meta("which SuperOffice installation to imitate (auth schemes differ)", "choice", INSTALLATIONS),
    )
    # A CredentialStore, a mapping, or a path to a TOML/JSON file.
    credentials: Any = field(
        default=None, metadata=_meta("credential store file (TOML or JSON); unset accepts any well-formed one", "path")
    )
    journal_limit: int = field(
        default=DEFAULT_JOURNAL_LIMIT, metadata=_meta("call records kept, oldest dropped first; 0 keeps all", "int")
    )
    image_budget: int = field(
        default=DEFAULT_IMAGE_BUDGET,
        metadata=_meta(
            "bytes of image data kept, e.g. 64M or 2G; past it the oldest images keep only their metadata "
            "(410 Gone when fetched); 0 keeps all",
            "size",
        ),
    )
    admin_token: str | None = field(default=None, metadata=_meta("bearer token the /_ routes require"))
    allowed_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            "Host names the /_ routes answer besides loopback ones, on a loopback bind without an admin token "
            "(name or name:port; the flag repeats, the variable takes a comma-separated list)",
            "hosts",
        ),
    )
    contracts: Path | None = field(
        default=None, metadata=_meta("contract file or folder (default: the packaged contracts)", "path")
    )
    state: Path | None = field(
        default=None, metadata=_meta("SQLite file that keeps ids, images and journal across restarts", "path")
    )
    tenants: str = field(
        default="shared",
        metadata=_meta(
            "shared: one state for every URL prefix; isolated: each /CustNNNN prefix gets its own",
            "choice",
            TENANT_MODES,
        ),
    )
    max_tenants: int = field(
        default=DEFAULT_MAX_TENANTS, metadata=_meta("with isolated tenants, how many prefixes may exist", "int")
    )
    log_calls: bool = field(
        default=False,
        metadata=_meta(
            "log one line per call (mockserver serve: on; --quiet turns it off)", "bool", cli=False, shell_only=True
        ),
    )
    loop: str = field(
        default="asyncio",
        metadata=_meta(
            "event loop mockserver serve runs on; uvloop needs the speed extra", "choice", LOOPS, shell_only=True
        ),
    )
    log_format: str = field(
        default="text",
        metadata=_meta(
            "text, or json: one JSON object per line for log collectors", "choice", LOG_FORMATS, shell_only=True
        ),
    )

    def __post_init__(self) -> None:
        if not 1 <= self.first_id <= INT32_MAX:
            raise ConfigError(f"first_id must be between 1 and {INT32_MAX} (got {self.first_id})")
        if self.max_body_size < 1:
            raise ConfigError(f"max_body_size must be at least 1 byte (got {self.max_body_size})")
        for name, allowed in (
            ("installation", INSTALLATIONS),
            ("tenants", TENANT_MODES),
            ("log_format", LOG_FORMATS),
            ("loop", LOOPS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"{name} must be {' or '.join(allowed)} (got {value!r})")
        if self.journal_limit < 0:
            raise ConfigError(f"journal_limit must be 0 (unbounded) or more (got {self.journal_limit})")
        if self.image_budget < 0:
            raise ConfigError(f"image_budget must be 0 (unlimited) or more bytes (got {self.image_budget})")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535 (got {self.port})")
        if self.max_tenants < 1:
            raise ConfigError(f"max_tenants must be at least 1 (got {self.max_tenants})")
        for name in ("header_timeout", "idle_timeout"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 second (got {getattr(self, name)})")
        if self.max_connections < 0:
            raise ConfigError(
                f"max_connections must be 0 (from the open-file limit) or more (got {self.max_connections})"
            )
        if self.min_body_rate < 0:
            raise ConfigError(f"min_body_rate must be 0 (off) or more bytes a second (got {self.min_body_rate})")
        if self.max_body_memory < 1:
            raise ConfigError(f"max_body_memory must be at least 1 byte (got {self.max_body_memory})")
        if isinstance(self.allowed_hosts, str) or not isinstance(self.allowed_hosts, tuple):
            object.__setattr__(self, "allowed_hosts", split_hosts(self.allowed_hosts))

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """Every setting as plain JSON values; secrets say only whether they are set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                out[f.name] = "set" if value is not None else "unset"
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = str(value) if isinstance(value, Path) else value
        return out


def setting_fields() -> tuple[Field[Any], ...]:
    """The fields of `Settings`, in order, each with its metadata (help, kind, choices, shell_only)."""
    return fields(Settings)


def fake_setting_names() -> tuple[str, ...]:
    """The settings a fake itself takes (marker keywords, fixtures): every field but the shell-only ones."""
    return tuple(f.name for f in fields(Settings) if not f.metadata["shell_only"])


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


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


def parse_value(f: Field[Any], where: str, text: str) -> Any:
    """Read one setting's text (from the environment or a flag) as its kind says."""
    kind = f.metadata["kind"]
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{where} must be a whole number (got {text!r})") from None
    if kind == "size":
        return parse_size(where, text)
    if kind == "bool":
        return _parse_bool(where, text)
    if kind == "path":
        return Path(text) if text else None
    if kind == "hosts":
        return split_hosts(text)
    if kind == "choice" and text not in f.metadata["choices"]:
        raise ConfigError(f"{where} must be one of {', '.join(f.metadata['choices'])} (got {text!r})")
    if f.name == "admin_token":
        return text or None
    return text


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read MOCKSERVER_<FIELD> variables into settings values."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for f in fields(Settings):
        key = env_name(f.name)
        if key in env:
            out[f.name] = parse_value(f, key, env[key])
    return out
