"""Credentials the fake issued, each with a life on the fake's clock, and what happened to them.

A system user ticket (``7T:…``) lives `ticket_life_s` (6 hours) after its last accepted use: each
call it is accepted on slides it. An OAuth access token (``8A:Cust12345.…``) lives
`access_token_life_s` after it was issued, without sliding. A refresh token lives as long as the
fake (a consent is never withdrawn here). A credential is alive while ``now < expires``.

The book never shows a secret: each credential is named by its fingerprint (``ticket#1a2b3c4d``).
Every login and every call that carried an issued credential leaves a `CredentialEvent`, which
the credential assertions (credential_checks.py) read.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from mockserver.core.headers.auth import fingerprint
from mockserver.core.vocabulary._bounded import BoundedCache
from mockserver.core.vocabulary.records import CallRecord, Pending, record_of

Kind = Literal["ticket", "token", "refresh"]
EventKind = Literal["authenticated", "login_failed", "accepted", "expired", "refused"]
# Issued credentials kept at once (the oldest forgotten first) and events kept for the assertions.
MAX_ISSUED = 100_000
MAX_EVENTS = 10_000


def iso(when: float) -> str:
    """An instant as the journal shows it: ``2026-12-07T10:00:00Z``."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Issued:
    """One credential the fake handed out. `app_token` (a secret) is never shown, only compared."""

    kind: Kind
    label: str
    context: str
    app_name: str
    app_token: str | None
    client_id: str | None
    issued: float
    last_used: float
    life_s: float
    sliding: bool

    @property
    def expires(self) -> float:
        return (self.last_used if self.sliding else self.issued) + self.life_s

    def alive(self, now: float) -> bool:
        return now < self.expires

    def story(self) -> str:
        """When it was issued, last used and expires, for messages and the journal."""
        used = f", last used {iso(self.last_used)}" if self.sliding and self.last_used != self.issued else ""
        return f"issued {iso(self.issued)}{used}, expires {iso(self.expires)}"


@dataclass(frozen=True, slots=True)
class CredentialEvent:
    """One login or one call carrying an issued credential, and the journal entry of that call."""

    kind: EventKind
    label: str
    detail: str
    entry: CallRecord | Pending

    @property
    def record(self) -> CallRecord:
        return record_of(self.entry)

    def describe(self) -> str:
        """``#4 POST /api/v1/Agents/BLOB/SaveImageStream -> 401 (ticket#1a2b3c4d expired …)``."""
        r = self.record
        return f"#{r.seq} {r.method} {r.path} -> {r.status} ({self.detail})"

    def to_json(self) -> dict[str, object]:
        r = self.record
        return {"kind": self.kind, "credential": self.label, "detail": self.detail, "seq": r.seq, "status": r.status}


class CredentialBook:
    """The credentials a fake issued (secret → `Issued`) and the events about them, bounded, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: BoundedCache[str, Issued] = BoundedCache(MAX_ISSUED)
        self._events: deque[CredentialEvent] = deque(maxlen=MAX_EVENTS)

    def issue(self, secret: str, issued: Issued) -> None:
        self._issued.put(secret, issued)

    def find(self, secret: str) -> Issued | None:
        return self._issued.get(secret)

    def slide(self, issued: Issued, now: float) -> None:
        with self._lock:
            issued.last_used = max(issued.last_used, now)

    def note(self, kind: EventKind, label: str, detail: str, entry: CallRecord | Pending) -> None:
        self._events.append(CredentialEvent(kind, label, detail, entry))

    def events(self) -> tuple[CredentialEvent, ...]:
        """Every event kept, oldest first."""
        return tuple(self._events)

    def clear(self) -> None:
        """Forget every issued credential and event (``fake.reset()``)."""
        self._issued.clear()
        self._events.clear()

    def __len__(self) -> int:
        return len(self._issued)

    def __iter__(self) -> Iterator[Issued]:
        return iter([i for secret in self._issued if (i := self._issued.get(secret)) is not None])


def new_issued(
    kind: Kind,
    secret: str,
    *,
    context: str,
    app_name: str,
    app_token: str | None,
    client_id: str | None,
    now: float,
    life_s: float,
) -> Issued:
    return Issued(
        kind, fingerprint(kind, secret), context, app_name, app_token, client_id, now, now, life_s, kind == "ticket"
    )


__all__ = ["MAX_EVENTS", "MAX_ISSUED", "CredentialBook", "CredentialEvent", "Issued", "iso", "new_issued"]
