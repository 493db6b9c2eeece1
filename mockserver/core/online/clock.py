"""The one clock every time-dependent rule of a fake reads: the real one, or one a test moves.

Ticket and token expiry, the status API's ``ValidUntil`` and timed states read ``clock.now()``
(seconds since the epoch, as ``time.time()``), so a test checks a six-hour expiry by calling
``fake.clock.advance(hours=6)`` instead of sleeping. The call journal's arrival times stay on
the machine's clock: they say when a request really came.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Real time shifted by an offset, or frozen at one instant; safe to move from any thread.

    ``advance`` and ``set`` move it whether or not it is frozen; ``freeze`` stops it where it is
    and ``unfreeze`` lets it run on from there.
    """

    def __init__(self, *, frozen: bool = False, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen_at: float | None = None
        if frozen:
            self._frozen_at = time.time() if start is None else float(start)

    def now(self) -> float:
        """Seconds since the epoch on this clock."""
        frozen = self._frozen_at
        return frozen if frozen is not None else time.time() + self._offset

    def utcnow(self) -> datetime:
        """This clock's time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> float:
        """Move the clock forward (never back: use `set` for that); return the new time."""
        step = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if step < 0:
            raise ValueError(f"a clock only advances: got {step} seconds; use set() to go back")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += step
            else:
                self._offset += step
            return self.now()

    def set(self, when: float | datetime) -> float:
        """Put the clock at `when` (epoch seconds or an aware datetime); return it."""
        instant = when.timestamp() if isinstance(when, datetime) else float(when)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - time.time()
            return self.now()

    def freeze(self) -> float:
        """Stop the clock where it stands; return that time."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
            return self._frozen_at

    def unfreeze(self) -> float:
        """Let a frozen clock run on from where it stood; return that time."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None
            return self.now()

    def reset(self) -> None:
        """Back to real time, running."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None

    def to_json(self) -> dict[str, object]:
        now = self.now()
        return {
            "now": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            "epoch": now,
            "frozen": self.frozen,
            "offset_s": round(now - time.time(), 6),
        }


__all__ = ["Clock"]
