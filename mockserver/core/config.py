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

from mockserver.core.online.clock_control import check_clock_setting
from mockserver.core.online.hosts import check_online, check_url
from mockserver.core.storage.errors import DEFAULT_IMAGE_BUDGET
from mockserver.core.vocabulary.contract import INT32_MAX
from mockserver.core.vocabulary.errors import ConfigError
from mockserver.core.vocabulary.journal import DEFAULT_JOURNAL_BUDGET, DEFAULT_JOURNAL_LIMIT

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
SECRET_FIELDS = frozenset({"admin_token", "credentials", "applications"})
EXPIRED_TOKEN_STATUSES = (401, 403)


def _meta(
    help: str,
    kind: str = "str",
    choices: tuple[str, ...] = (),
    cli: bool = True,
    shell_only: bool = False,
    unset: str = "unset",
) -> dict[str, Any]:
    """Describe a setting: `kind` is how its text is read (str, int, size, bool, path, choice, hosts, list).

    `shell_only` marks what only `mockserver serve` decides (its log lines, its event loop): no
    marker keyword or fixture takes it. `unset` is how the help and the banner write its None
    (e.g. "the packaged contracts").
    """
    return {"help": help, "kind": kind, "choices": choices, "cli": cli, "shell_only": shell_only, "unset": unset}


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
    journal_budget: int = field(
        default=DEFAULT_JOURNAL_BUDGET,
        metadata=_meta(
            "bytes all call records may hold together, every tenant's included, e.g. 64M; past it the oldest "
            "records are dropped and counted; 0 keeps all (each record is cut to 64 KiB regardless)",
            "size",
        ),
    )
    image_budget: int = field(
        default=DEFAULT_IMAGE_BUDGET,
        metadata=_meta(
            "bytes of images kept, their metadata and links included, every tenant's together, e.g. 64M or 2G; "
            "past it the oldest images keep only their metadata (410 Gone when fetched), then lose it too; "
            "0 keeps all",
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
        default=None, metadata=_meta("contract file or folder", "path", unset="the packaged contracts")
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
    clock: str | None = field(
        default=None,
        metadata=_meta(
            "the fake's clock for credential expiry: unset runs on real time; 'frozen' stops it at start; "
            "an ISO 8601 instant such as 2026-12-07T10:00:00Z freezes it there (move it with POST /_clock)"
        ),
    )
    # A path to a TOML file, or a mapping of the same shape (core/online/applications.py).
    applications: Any = field(
        default=None,
        metadata=_meta(
            "TOML file of partner applications ([[application]] with application_token, public_key PEM, "
            "client_id, name): signed system user tokens are verified with their keys",
            "path",
        ),
    )
    ticket_life_s: int = field(
        default=21600,
        metadata=_meta("seconds a ticket the fake issued lives after its last accepted use (sliding)", "int"),
    )
    access_token_life_s: int = field(
        default=3600, metadata=_meta("seconds an OAuth access token lives (its expires_in); it does not slide", "int")
    )
    signed_token_window_s: int = field(
        default=300,
        metadata=_meta(
            "how far (seconds, either way) a signed system user token's timestamp may be from the fake's clock", "int"
        ),
    )
    expired_token_status: int = field(
        default=401, metadata=_meta("the status an expired OAuth access token gets: 401 or 403", "int")
    )
    issued_only: bool = field(
        default=False,
        metadata=_meta("refuse (401) tickets and Bearer tokens this fake did not issue itself", "bool"),
    )
    online_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            "SuperOffice Online mode: comma-separated host names, the first the authentication host, the rest "
            "numbered hosts where tenants live (e.g. sod,sod2,sod3); each gets a listener (port, port+1, ... or "
            "free ports with port 0); implies isolated tenants",
            "list",
        ),
    )
    online_home: str | None = field(
        default=None, metadata=_meta("Online mode: the host new tenants start on", unset="the second host")
    )
    online_tenants: tuple[str, ...] = field(
        default=(),
        metadata=_meta("Online mode: comma-separated tenants known from the start (e.g. Cust12345)", "list"),
    )
    online_state_change_url: str | None = field(
        default=None,
        metadata=_meta("Online mode: the app's State Change URL, where moves and state changes are POSTed"),
    )
    online_notify_timeout_ms: int = field(
        default=5000,
        metadata=_meta("Online mode: how long one delivery of a state-change notification may take", "int"),
    )
    online_valid_for: int = field(
        default=300,
        metadata=_meta("Online mode: seconds the tenant status API's ValidUntil lies ahead of the clock", "int"),
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
        if self.journal_budget < 0:
            raise ConfigError(f"journal_budget must be 0 (unlimited) or more bytes (got {self.journal_budget})")
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
        for name in ("ticket_life_s", "access_token_life_s", "signed_token_window_s"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 second (got {getattr(self, name)})")
        if self.expired_token_status not in EXPIRED_TOKEN_STATUSES:
            raise ConfigError(f"expired_token_status must be 401 or 403 (got {self.expired_token_status})")
        check_clock_setting(self.clock)
        for name in ("allowed_hosts", "online_hosts", "online_tenants"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, tuple):
                object.__setattr__(self, name, split_hosts(value))
        if self.online_hosts:
            check_online(self.online_hosts, self.online_home, self.online_tenants, self.online_valid_for)
            check_url(self.online_state_change_url, self.online_notify_timeout_ms)
            object.__setattr__(self, "tenants", "isolated")  # Online mode: every /CustNNNN is a tenant

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


def human_size(size: int) -> str:
    """A size as the docs write it: ``33554432`` → ``32M``, ``524288`` → ``512k``; other sizes in bytes."""
    for unit, scale in (("G", 1024**3), ("M", 1024**2), ("k", 1024)):
        if size and size % scale == 0:
            return f"{size // scale}{unit}"
    return str(size)


def shown_value(f: Field[Any], value: Any) -> str:
    """A setting's value as people read it (help, banner): ``32M``, ``off``, ``unset``, ``none``."""
    kind = f.metadata["kind"]
    if value is None:
        return str(f.metadata.get("unset", "unset"))
    if f.name in SECRET_FIELDS:
        return "set"
    if kind == "size":
        return human_size(value)
    if kind == "bool":
        return "on" if value else "off"
    if kind in ("hosts", "list"):
        return ", ".join(value) if value else "none"
    return str(value)


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
    if kind in ("hosts", "list"):
        return split_hosts(text)
    if kind == "choice" and text not in f.metadata["choices"]:
        raise ConfigError(f"{where} must be one of {', '.join(f.metadata['choices'])} (got {text!r})")
    if f.name in ("admin_token", "clock"):
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
