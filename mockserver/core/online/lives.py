"""One Online tenant's life as data: its host and state with what is scheduled (`Life`), a change to it
(`Change`, what a state-change notification tells), and a call its life refuses (`Refused`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from mockserver.core.vocabulary.errors import ApiError


@dataclass(slots=True)
class Life:
    """One tenant's host and state, with what is scheduled for it."""

    name: str
    host: str
    state: str = "Running"
    until: float | None = None  # a timed state ends at this clock time
    calls_left: int | None = None  # a state for the next N calls ends after them
    then: str = "Running"  # the state a timed or counted state returns to
    move_after: int | None = None  # calls to pass before the scheduled move
    move_to: str | None = None

    def to_state(self) -> dict[str, Any]:
        """Every field, for the state file."""
        return asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Life:
        """A life from `to_state`'s dict; ValueError (or TypeError) for anything else."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not set(data) <= names:
            raise ValueError(f"a tenant's life has the keys {', '.join(sorted(names))}")
        life = cls(**data)
        if not isinstance(life.name, str) or not isinstance(life.host, str) or not isinstance(life.state, str):
            raise ValueError("name, host and state are texts")
        return life

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"ContextIdentifier": self.name, "host": self.host, "state": self.state}
        if self.until is not None:
            out["state_until"] = datetime.fromtimestamp(self.until, UTC).isoformat().replace("+00:00", "Z")
        if self.calls_left is not None:
            out["state_calls_left"] = self.calls_left
        if self.until is not None or self.calls_left is not None:
            out["state_then"] = self.then
        if self.move_to is not None:
            out["move_to"] = self.move_to
            out["move_after_calls"] = self.move_after
        return out


@dataclass(frozen=True, slots=True)
class Change:
    """A move or a state change, as a state-change notification tells it."""

    tenant: str
    kind: str  # "move" or "state"
    host: str
    state: str
    before: str  # the host before a move, the state before a state change
    time: float


@dataclass
class Refused:
    """An agent call the tenant's life refuses: the tenant whose journal keeps it ('' for the default one)."""

    tenant: str
    error: ApiError


__all__ = ["Change", "Life", "Refused"]
