"""Who may drive the /_ routes: no admin token must not mean any web page can.

A browser will send requests to 127.0.0.1 for any page it shows. Two checks keep such a page
from reading or changing the fake:

- DNS rebinding: a page on ``evil.example`` whose name now resolves to 127.0.0.1 reaches the
  fake with ``Host: evil.example``. On a loopback bind without an admin token a /_ request
  must name this machine in its Host (localhost, 127.x.y.z, [::1], any port) or a host from
  ``allowed_hosts``.
- Cross-site requests: a page elsewhere can POST a form or a fetch() to the fake. A state-changing
  /_ request (POST, PUT, PATCH, DELETE) carrying an Origin other than its own Host, or
  ``Sec-Fetch-Site: cross-site``, is refused, whatever the bind and token.

curl, the Python servers and the /_calls page (links and images, same origin) pass both.
With an admin token the token is the guard: a page cannot know it, so the Host check is off.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

from ..core.config import Settings
from ..core.vocabulary.errors import ApiError, Violation, preview

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
FORBIDDEN_TYPE = "UnauthorizedAccessException"


def is_loopback(host: str) -> bool:
    """True for a bind address (or a Host name) that only this machine can reach."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, str | None]:
    """``Host`` as (name, port): ``[::1]:8080`` → ("::1", "8080"); ``Localhost.`` → ("localhost", None)."""
    text = value.strip().lower()
    if text.startswith("["):
        name, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    else:
        name, colon, port_text = text.partition(":")
        port = port_text if colon else None
    return name.rstrip("."), port or None


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """A loopback name, or one of `allowed` (a name matches any port; ``name:port`` that port only)."""
    name, port = split_host(host)
    if is_loopback(name):
        return True
    for entry in allowed:
        want_name, want_port = split_host(entry)
        if want_name == name and (want_port is None or want_port == port):
            return True
    return False


def same_origin(origin: str, host: str | None) -> bool:
    """True when `origin`'s host and port are the request's own Host (a missing port is the scheme's)."""
    if host is None:
        return False
    try:
        parts = urlsplit(origin.strip())
        origin_port = str(parts.port) if parts.port is not None else DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return False
    if not parts.hostname:  # "null": a sandboxed frame, a file:// page, a redirect across sites
        return False
    name, port = split_host(host)
    return parts.hostname.rstrip(".") == name and origin_port == (port or DEFAULT_PORTS.get(parts.scheme.lower()))


def debug_routes_status(settings: Settings) -> str:
    """How the /_ routes are guarded, as /_health reports it."""
    if settings.admin_token:
        return "admin token required"
    if is_loopback(settings.host):
        return "loopback only: no admin token; Host must name this machine or an allowed host"
    return "open: no admin token on a non-loopback bind"


def refusal(request: web.Request, settings: Settings) -> ApiError | None:
    """The 403 for a /_ request a web page may have sent on someone's behalf; None when it may go on."""
    headers = request.headers
    host = headers.get("Host")
    if _host_checked(settings) and host is not None and not host_allowed(host, settings.allowed_hosts):
        return _forbidden(
            "header.Host",
            "localhost, 127.0.0.1, [::1] or an allowed host (--allowed-host)",
            preview(host, 60),
            f"The /_ routes answer only requests for this machine, not for {preview(host, 60)} "
            "(a DNS rebinding page would send that); add it with --allowed-host if it is yours.",
        )
    if request.method not in STATE_CHANGING:
        return None
    origin = headers.get("Origin")
    if origin is not None and not same_origin(origin, host):
        return _forbidden(
            "header.Origin",
            f"no Origin, or this fake's own ({preview(host or 'no Host', 60)})",
            preview(origin, 60),
            f"A page at {preview(origin, 60)} may not {request.method} {request.path} (a cross-site request).",
        )
    if headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return _forbidden(
            "header.Sec-Fetch-Site",
            "same-origin, same-site, none or no header",
            "cross-site",
            f"A page on another site may not {request.method} {request.path}.",
        )
    return None


def _host_checked(settings: Settings) -> bool:
    return not settings.admin_token and is_loopback(settings.host)


def _forbidden(location: str, expected: str, got: str, message: str) -> ApiError:
    return ApiError(403, [Violation(location, expected, got)], message=message, error_type=FORBIDDEN_TYPE)


__all__ = ["debug_routes_status", "host_allowed", "is_loopback", "refusal", "same_origin", "split_host"]
