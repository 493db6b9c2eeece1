"""Fault injection, the deciding half: which fault fires on which call, and what it makes of it.

The core decides (`FaultSet.match`, inside `Fake.process`) so that a faulted call is journaled
with the fault that hit it; the HTTP shell (`http.faults`) acts out what only a socket can.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation, preview

if TYPE_CHECKING:
    from mockserver.core.answering.behaviours import Result
    from mockserver.core.body.binding import Binding
    from mockserver.core.storage.state import State
    from mockserver.core.vocabulary.contract import Contract

KINDS = ("delay", "status", "drop", "truncate")
NO_RESPONSE = 0  # the journaled status of a call whose connection was dropped: the client got nothing
# What the real server says for each failure a client must survive (401 and 421 wording from FACTS.md).
PRESETS: dict[int, tuple[str, dict[str, str]]] = {
    401: (
        "The ticket or token has expired. Sign in again.",
        {"WWW-Authenticate": 'Basic realm="SuperOffice Username or Ticket"'},
    ),
    421: ("Wrong subdomain used to access tenant", {}),
    429: ("Too many requests. Slow down and retry after the time given in Retry-After.", {}),
    500: ("An unexpected error occurred on the server.", {}),
    503: ("The service is temporarily unavailable. Retry after the time given in Retry-After.", {}),
}
RETRY_AFTER_DEFAULT = {429: 1, 503: 1}


@dataclass(frozen=True, slots=True)
class Fault:
    """What goes wrong, and for which calls. See docs/faults-and-state.md."""

    kind: str
    status: int | None = None
    delay_ms: int = 0
    path: str | None = None  # an agent path (any prefix, any case) or an operation name; None = every call
    type: str | None = None
    principal: str | None = None
    times: int | None = None  # fire at most this often; None with no fraction = once
    fraction: float | None = None  # fire for this share of matching calls, drawn from Random(seed)
    seed: int = 0
    retry_after: int | None = None
    message: str | None = None
    after_save: bool = False  # the save is stored before the failure: the "lost response"

    @property
    def saves(self) -> bool:
        """Whether a save still happens: slow and cut-short answers come from a call that ran."""
        return self.after_save or self.kind in ("delay", "truncate")

    @property
    def label(self) -> str:
        text = {"delay": f"delay {self.delay_ms}ms", "status": f"status {self.status}"}.get(self.kind, self.kind)
        if self.delay_ms and self.kind != "delay":
            text += f" after {self.delay_ms}ms"
        return text + (" after save" if self.after_save and self.kind in ("status", "drop") else "")


def parse_fault(data: Mapping[str, Any], where: str = "fault") -> Fault:
    """Check a fault given as plain values; raise a 400 `ApiError` naming every bad field."""
    problems: list[Violation] = []
    known = {f.name for f in fields(Fault)}
    for key in data:
        if key not in known:
            problems.append(Violation(f"{where}.{key}", f"one of {', '.join(sorted(known))}", preview(str(key), 30)))
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(Violation(f"{where}.kind", f"one of {', '.join(KINDS)}", preview(kind, 20)))

    def number(name: str, low: float, high: float, integer: bool = True) -> None:
        value = data.get(name)
        if value is None:
            return
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if not ok or isinstance(value, bool) or not low <= value <= high:
            wanted = "a whole number" if integer else "a number"
            problems.append(Violation(f"{where}.{name}", f"{wanted} from {low} to {high}", preview(value, 20)))

    number("status", 400, 599)
    number("delay_ms", 0, 600_000)
    number("times", 1, 2**31)
    number("fraction", 0.0, 1.0, integer=False)
    number("seed", -(2**63), 2**63)
    number("retry_after", 0, 86_400)
    for name in ("path", "type", "principal", "message"):
        if data.get(name) is not None and not isinstance(data[name], str):
            problems.append(Violation(f"{where}.{name}", "a string", preview(data[name], 20)))
    if not isinstance(data.get("after_save", False), bool):
        problems.append(Violation(f"{where}.after_save", "true or false", preview(data["after_save"], 20)))
    if kind == "status" and data.get("status") is None:
        problems.append(
            Violation(f"{where}.status", "an HTTP status for kind status (500, 503, 429, 401, 421…)", "none")
        )
    if kind != "status" and data.get("status") is not None:
        problems.append(Violation(f"{where}.status", "only with kind status", preview(data["status"], 20)))
    if kind == "delay" and not data.get("delay_ms"):
        problems.append(
            Violation(f"{where}.delay_ms", "a delay above 0 ms for kind delay", preview(data.get("delay_ms"), 20))
        )
    if problems:
        raise ApiError(400, problems, message="; ".join(v.message for v in problems))
    return Fault(**{k: v for k, v in data.items() if v is not None})


class InjectedFault:
    """The handle `fake.inject(...)` returns: how often the fault fired, and `remove()`."""

    def __init__(self, ident: int, fault: Fault, operation: str | None, owner: FaultSet) -> None:
        self.id = ident
        self.fault = fault
        self.operation = operation
        self.hits = 0
        self.matched = 0
        self._limit = fault.times if fault.times is not None else (1 if fault.fraction is None else None)
        self._random = random.Random(fault.seed)
        self._owner = owner

    @property
    def remaining(self) -> int | None:
        """How many more times it will fire (None: no limit)."""
        return None if self._limit is None else max(self._limit - self.hits, 0)

    @property
    def active(self) -> bool:
        return self.remaining != 0 and self in self._owner

    def remove(self) -> None:
        """Stop this fault; calls already faulted stay journaled as they were."""
        self._owner.remove(self.id)

    def _fires(self, operation: str | None, type: str | None, principal: str | None) -> bool:
        f = self.fault
        if self.remaining == 0 or (self.operation is not None and self.operation != operation):
            return False
        if f.type is not None and (type or "").lower() != f.type.lower():
            return False
        if f.principal is not None and (principal or "").lower() != f.principal.lower():
            return False
        self.matched += 1
        # The draw happens on every match, so the pattern depends only on the seed and the call order.
        if f.fraction is not None and self._random.random() >= f.fraction:
            return False
        self.hits += 1
        return True

    def to_json(self) -> dict[str, Any]:
        spec = {k: v for k, v in asdict(self.fault).items() if v is not None}
        return {
            "id": self.id,
            **spec,
            "label": self.fault.label,
            "hits": self.hits,
            "matched": self.matched,
            "remaining": self.remaining,
            "active": self.active,
        }

    def __repr__(self) -> str:
        return f"<InjectedFault #{self.id} {self.fault.label} hits={self.hits} remaining={self.remaining}>"


@dataclass(slots=True)
class Hit:
    """One call a fault fired on; the core fills `blob_id` when the save happened anyway."""

    fault: Fault
    blob_id: int | None = None

    @property
    def label(self) -> str:
        return self.fault.label

    def run(
        self, behaviour: Callable[[State, Contract, Binding], Result], state: State, contract: Contract, bound: Binding
    ) -> Result:
        """Run the behaviour if the fault lets the save happen, then fail as the fault says."""
        f = self.fault
        result = behaviour(state, contract, bound) if f.saves else None
        if result is not None:
            self.blob_id = result.blob_id
        if f.kind == "status":
            assert f.status is not None
            message, headers = PRESETS.get(f.status, (f"The server answered {f.status}.", {}))
            headers = dict(headers)
            retry_after = f.retry_after if f.retry_after is not None else RETRY_AFTER_DEFAULT.get(f.status)
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            raise ApiError(f.status, [], headers=headers, message=f.message or message)
        if f.kind == "drop":
            raise ApiError(NO_RESPONSE, [], message="connection dropped before any response")
        assert result is not None
        return result


def fault_spec(kind: str | Fault | Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """`inject`'s arguments as one spec: a kind and options, a `Fault`, or a mapping, options on top."""
    if isinstance(kind, Fault):
        return {**asdict(kind), **options}
    if isinstance(kind, Mapping):
        return {**kind, **options}
    return {"kind": kind, **options}


def checked_fault(spec: Mapping[str, Any]) -> Fault:
    """The fault `spec` describes; a ConfigError naming what is wrong (for a caller in Python)."""
    try:
        return parse_fault(spec)
    except ApiError as err:
        raise ConfigError(err.text) from None


class FaultSet:
    """The faults of one fake, first injected first tried; at most one fires per call."""

    def __init__(self, resolve: Callable[[str | None], str | None] = lambda path: path) -> None:
        self._resolve = resolve  # a fault's `path` (agent path or operation name) → operation name
        self._faults: list[InjectedFault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, fault: Fault, operation: str | None) -> InjectedFault:
        with self._lock:
            handle = InjectedFault(next(self._ids), fault, operation, self)
            self._faults.append(handle)
        return handle

    def inject(self, kind: str | Fault | Mapping[str, Any], **options: Any) -> InjectedFault:
        """Add a fault from a kind and options, a `Fault` or a spec; ConfigError names what is wrong."""
        fault = checked_fault(fault_spec(kind, options))
        try:
            operation = self._resolve(fault.path)
        except ApiError as err:  # a path naming no agent call
            raise ConfigError(err.text) from None
        return self.add(fault, operation)

    def remove(self, ident: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != ident]
            return len(self._faults) != before

    def clear(self) -> int:
        with self._lock:
            count, self._faults = len(self._faults), []
            return count

    def __contains__(self, handle: object) -> bool:
        return handle in self._faults

    def __iter__(self) -> Iterator[InjectedFault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def match(self, operation: str | None, type: str | None, principal: str | None) -> Hit | None:
        """Return the hit for this call, or None; counts the call against the fault that fires."""
        if not self._faults:
            return None
        with self._lock:
            for handle in self._faults:
                if handle._fires(operation, type, principal):
                    return Hit(handle.fault)
        return None


__all__ = ["Fault", "FaultSet", "Hit", "InjectedFault", "parse_fault"]
