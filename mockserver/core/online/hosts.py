"""The hosts of SuperOffice Online as one fake plays them: an authentication host and numbered tenant hosts.

``online_hosts = ("sod", "sod2", "sod3")`` names them: the first is the un-numbered host kept for
authentication and the tenant status API (``sod.superoffice.com``), the rest are the hosts where
tenants live (``sod2``, ``sod3``). The shell serves each as a listener of its own and tells
`Hosts` the URL it got, so every URL the fake hands out is one a client can call as it is.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

from mockserver.core.online.states import CONTEXT_IDENTIFIER
from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation, preview

HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


def check_online(hosts: tuple[str, ...], home: str | None, tenants: tuple[str, ...], valid_for: int) -> None:
    """Refuse Online settings that cannot work, saying which and why (a ConfigError)."""
    if len(hosts) < 2:
        raise ConfigError(
            "online_hosts needs an authentication host and at least one tenant host, e.g. sod,sod2 "
            f"(got {','.join(hosts)!r})"
        )
    for name in hosts:
        if not HOST_NAME.fullmatch(name):
            raise ConfigError(f"online_hosts: {name!r} is not a host name (letters, digits and '-')")
    lowered = [h.lower() for h in hosts]
    if len(set(lowered)) != len(lowered):
        raise ConfigError(f"online_hosts names a host twice ({','.join(hosts)})")
    if home is not None and home.lower() not in lowered[1:]:
        raise ConfigError(f"online_home must be one of the tenant hosts {', '.join(hosts[1:])} (got {home!r})")
    for name in tenants:
        if not CONTEXT_IDENTIFIER.fullmatch(name):
            raise ConfigError(f"online_tenants: {name!r} is not a context identifier (as Cust12345)")
    if valid_for < 0:
        raise ConfigError(f"online_valid_for must be 0 or more seconds (got {valid_for})")


def check_url(url: str | None, timeout_ms: int) -> None:
    """Refuse a State Change URL that is not http(s), and a delivery timeout below 1 ms."""
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"online_state_change_url must be an http:// or https:// URL with a host (got {url!r})")
    if timeout_ms < 1:
        raise ConfigError(f"online_notify_timeout_ms must be at least 1 (got {timeout_ms})")


class Hosts:
    """The hosts by name (matched without regard to case), each with the URL the shell bound it to."""

    def __init__(self, names: tuple[str, ...], home: str | None = None) -> None:
        self.names = names
        self.auth = names[0]
        self.tenant_hosts = names[1:]
        self.home = self.name(home) if home is not None else names[1]
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def name(self, given: str) -> str:
        """The host's name as configured; a 400 naming the known hosts for any other."""
        for name in self.names:
            if name.lower() == given.lower():
                return name
        raise ApiError(
            400,
            [Violation("body.host", f"one of the hosts {', '.join(self.names)}", preview(given, 40))],
            message=f"{preview(given, 40)} is not a host of this fake; its hosts are {', '.join(self.names)}.",
        )

    def tenant_host(self, given: str) -> str:
        """A host tenants can live on (not the authentication host); a 400 otherwise."""
        name = self.name(given)
        if name == self.auth:
            raise ApiError(
                400,
                [Violation("body.host", f"one of the tenant hosts {', '.join(self.tenant_hosts)}", name)],
                message=f"{name} is the authentication host; tenants live on {', '.join(self.tenant_hosts)}.",
            )
        return name

    def bind(self, name: str, url: str) -> None:
        """The shell tells where it serves `name` (``http://127.0.0.1:54321``, no trailing slash)."""
        with self._lock:
            self._urls[self.name(name)] = url

    def url(self, name: str) -> str:
        """Where `name` is served; before the shell binds it, a made-up ``https://<name>.invalid``."""
        return self._urls.get(name, f"https://{name}.invalid")

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"name": n, "url": self.url(n), "role": "authentication" if n == self.auth else "tenants"}
            for n in self.names
        ]


__all__ = ["HOST_NAME", "Hosts", "check_online", "check_url"]
