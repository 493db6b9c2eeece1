"""The state-change notification SuperOffice POSTs to an app's State Change URL, built and recorded here.

A move or a state change of a tenant (`tenant_life.Change`) becomes the documented JSON
(``ChangeType`` 0–5, ``ContextIdentifier``, ``VersionName``, ``FileVersion``, ``Token``, and
``PublicEndpoint`` on a move). The ``Token`` is an RS256 JWT this fake signs with a key of its
own (claims: ``iss`` "mockserver", ``sub`` the context identifier, ``aud`` the State Change URL,
``iat``/``exp`` on the fake's clock, ``jti``, ``ChangeType``); `public_key_pem` verifies it.
The shell delivers each `Notification` (bounded in time and retries, never blocking the fake)
and writes each attempt into it; `notifications` keeps the last `KEPT` for tests to assert on.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mockserver.core.online.clock import Clock
from mockserver.core.online.states import VERSION_LABEL
from mockserver.core.online.tenant_life import Change, OnlineLife
from mockserver.core.vocabulary.errors import ApiError, Violation, preview

CHANGE_TYPES = {"Upgrade": 0, "BackupRestored": 1, "Suspend": 2, "Resume": 3, "Delete": 4, "Move": 5}
FILE_VERSION = "11.10.721.0"
TOKEN_LIFETIME = 600  # seconds, on the fake's clock
KEPT = 200
ISSUER = "mockserver"


def change_type(change: Change) -> int | None:
    """The documented ChangeType of a change, or None for a change SuperOffice sends nothing for."""
    if change.kind == "move":
        return CHANGE_TYPES["Move"]
    if change.state == "Suspended":
        return CHANGE_TYPES["Suspend"]
    if change.state in ("Deleting", "Deleted"):
        return CHANGE_TYPES["Delete"]
    if change.state in ("Running", "OnlineMaintenance"):
        if change.before == "Suspended":
            return CHANGE_TYPES["Resume"]
        if change.before == "OfflineMaintenance":
            return CHANGE_TYPES["Upgrade"]  # an upgrade runs offline; done, the tenant runs again
    return None


def state_change_url(given: object, where: str = "body.url") -> str | None:
    """An http(s) URL with a host (or None, which turns notifications off); a 400 naming anything else."""
    if given is None:
        return None
    if isinstance(given, str):
        parts = urlsplit(given)
        if parts.scheme in ("http", "https") and parts.hostname:
            return given
    raise ApiError(
        400,
        [Violation(where, "an http:// or https:// URL with a host (or null)", preview(given, 60))],
        message=f"The State Change URL must be an http(s) URL; got {preview(given, 60)}.",
    )


@dataclass
class Notification:
    """One notification: where it goes, what it says, and each delivery attempt's outcome."""

    url: str
    payload: dict[str, Any]
    attempts: list[str] = field(default_factory=list)  # "200", "timeout", "refused: …"
    delivered: bool = False
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "payload": self.payload,
            "attempts": list(self.attempts),
            "delivered": self.delivered,
            "done": self.done,
        }


class Notifier:
    """Turns changes into notifications for the State Change URL and hands them to the shell's `send`."""

    def __init__(self, clock: Clock, url: str | None = None, public_endpoint: Callable[[str], str] | None = None):
        self.clock = clock
        self.url = state_change_url(url, "setting.online_state_change_url")
        self.public_endpoint = public_endpoint or (lambda host: host)
        self.notifications: deque[Notification] = deque(maxlen=KEPT)
        self.send: Callable[[Notification], None] | None = None  # set by the shell while it serves
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()

    def __call__(self, change: Change) -> None:
        """A tenant changed: record its notification and hand it on (never blocks, never raises)."""
        url, kind = self.url, change_type(change)
        if url is None or kind is None:
            return
        payload: dict[str, Any] = {
            "ChangeType": kind,
            "ContextIdentifier": change.tenant,
            "VersionName": VERSION_LABEL,
            "FileVersion": FILE_VERSION,
            "Token": self.token(change.tenant, url, kind),
        }
        if kind == CHANGE_TYPES["Move"]:
            payload["PublicEndpoint"] = self.public_endpoint(change.host)
        note = Notification(url, payload)
        self.notifications.append(note)
        send = self.send
        if send is not None:
            send(note)

    def token(self, tenant: str, audience: str, kind: int) -> str:
        now = int(self.clock.now())
        claims = {
            "iss": ISSUER,
            "sub": tenant,
            "aud": audience,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "jti": uuid.uuid4().hex,
            "ChangeType": kind,
        }
        return jwt.encode(claims, self._private_key(), algorithm="RS256", headers={"kid": "mockserver-state-change"})

    def public_key_pem(self) -> str:
        """The PEM of the key that verifies every Token."""
        public = self._private_key().public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def _private_key(self) -> rsa.RSAPrivateKey:
        with self._lock:  # made on first use: a fake that never notifies never pays for a key
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "public_key": self.public_key_pem() if self.notifications else None,
            "notifications": [n.to_json() for n in list(self.notifications)],
        }


def attach_notifier(online: OnlineLife, url: str | None) -> Notifier:
    """A notifier for `online`'s changes, telling each host's public endpoint as its URL's host:port."""
    notifier = Notifier(online.clock, url, lambda host: urlsplit(online.hosts.url(host)).netloc)
    online.listeners.append(notifier)
    return notifier


__all__ = ["CHANGE_TYPES", "Notification", "Notifier", "attach_notifier", "change_type", "state_change_url"]
