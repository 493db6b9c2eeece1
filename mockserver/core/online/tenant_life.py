"""The life of a SuperOffice Online tenant: which host it is on, which state it is in, and what that means for a call.

Pure rules, no networking: `OnlineLife.gate` says whether an agent call that arrived on a host
may reach its tenant (None), or is refused with 421 (wrong host) or 503 (a state in which
"APIs are not available"); `status` is the tenant status API's answer; `move` and `set_state`
change a tenant's life, now, after N calls, for N calls or for a span of time on the clock.
Every change is kept in `changes` (and handed to `listeners`) so a state-change notification
can be sent for it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mockserver.core.online.clock import Clock
from mockserver.core.online.hosts import Hosts
from mockserver.core.online.lives import Change, Life, Refused
from mockserver.core.online.states import (
    CONTEXT_IDENTIFIER,
    DEFAULT_RETRY_AFTER,
    RUNNING_STATES,
    VERSION_LABEL,
    WRONG_SUBDOMAIN,
    context_identifier,
    state_name,
)
from mockserver.core.vocabulary.errors import ApiError, Violation


@dataclass
class OnlineLife:
    """Every Online tenant's host and state, read and changed under one lock, timed by `clock`."""

    hosts: Hosts
    clock: Clock
    valid_for: int = 300
    lives: dict[str, Life] = field(default_factory=dict)  # lower-cased name → life
    changes: list[Change] = field(default_factory=list)
    listeners: list[Callable[[Change], None]] = field(default_factory=list)

    known: tuple[str, ...] = ()  # tenants there from the start, Running on the home host
    store: Callable[[OnlineLife], None] | None = None  # keeps every life after each change (the state file)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()

    def reset(self) -> None:
        """Back to the start: the known tenants Running on the home host, nothing scheduled, no changes kept."""
        with self._lock:
            self.lives.clear()
            self.changes.clear()
            for name in self.known:
                self.add(name)
            self._stored()

    # ---- reading ---------------------------------------------------------------------------

    def find(self, name: str) -> Life | None:
        """The tenant's life as it stands now (a timed state past its end has ended), None if unknown."""
        with self._lock:
            life = self.lives.get(name.lower())
            if life is not None and life.until is not None and self.clock.now() >= life.until:
                self._end_state(life)
            return life

    def add(self, name: str) -> Life:
        """The tenant's life, made Running on the home host if it is new."""
        name = context_identifier(name)
        with self._lock:
            life = self.find(name)
            if life is None:
                life = self.lives[name.lower()] = Life(name, self.hosts.home)
                self._stored()
            return life

    def endpoint(self, name: str) -> str:
        """``<URL of the tenant's host>/<ContextIdentifier>``, where its API is now."""
        life = self.add(name)
        return f"{self.hosts.url(life.host)}/{life.name}"

    def status(self, name: str) -> dict[str, object]:
        """The tenant status API's JSON for `name` (``State: "Unknown"`` for a tenant it does not know)."""
        name = context_identifier(name)
        valid = datetime.fromtimestamp(self.clock.now() + self.valid_for, UTC)
        life = self.find(name)
        if life is None:
            return {
                "ContextIdentifier": name,
                "Endpoint": None,
                "State": "Unknown",
                "IsRunning": False,
                "ValidUntil": _iso(valid),
                "Api": None,
                "Version": None,
            }
        endpoint = f"{self.hosts.url(life.host)}/{life.name}"
        return {
            "ContextIdentifier": life.name,
            "Endpoint": endpoint,
            "State": life.state,
            "IsRunning": life.state in RUNNING_STATES,
            "ValidUntil": _iso(valid),
            "Api": endpoint + "/api",
            "Version": VERSION_LABEL,
        }

    def to_json(self) -> dict[str, object]:
        with self._lock:
            names = [life.name for life in self.lives.values()]
            return {
                "hosts": self.hosts.to_json(),
                "home": self.hosts.home,
                "tenants": [life.to_json() for n in names if (life := self.find(n)) is not None],
            }

    # ---- changing --------------------------------------------------------------------------

    def move(self, name: str, host: str, *, after_calls: int | None = None) -> Life:
        """Move the tenant to `host` now, or once `after_calls` more calls reached it there."""
        to = self.hosts.tenant_host(host)
        if after_calls is not None and after_calls < 0:
            raise ApiError(400, [Violation("body.after_calls", "a whole number, 0 or more", str(after_calls))])
        with self._lock:
            life = self.add(name)
            if after_calls:
                life.move_after, life.move_to = after_calls, to
            else:
                life.move_after = life.move_to = None
                self._move_now(life, to)
            self._stored()
            return life

    def set_state(self, name: str, state: str, *, calls: int | None = None, seconds: float | None = None) -> Life:
        """Put the tenant in `state`: for good, for the next `calls` agent calls, or for `seconds` on the clock."""
        new = state_name(state)
        if calls is not None and calls < 1:
            raise ApiError(400, [Violation("body.calls", "a whole number, 1 or more", str(calls))])
        if seconds is not None and (not math.isfinite(seconds) or seconds <= 0):
            raise ApiError(400, [Violation("body.seconds", "a number of seconds above 0", str(seconds))])
        if calls is not None and seconds is not None:
            raise ApiError(400, [Violation("body", "calls or seconds, not both", "both")])
        with self._lock:
            life = self.add(name)
            before = life.state
            limited = calls is not None or seconds is not None
            # A state for a while returns to what was in force for good before it.
            life.then = (
                (life.then if life.until is not None or life.calls_left is not None else before) if limited else new
            )
            life.calls_left = calls
            life.until = self.clock.now() + seconds if seconds is not None else None
            self._change_state(life, new, before)
            self._stored()
            return life

    # ---- the gate every agent call passes ----------------------------------------------------

    def gate(self, host: str, tenant: str, *, count: bool = True) -> Refused | None:
        """None when a call on `host` for `tenant` ('' for none) may reach the tenant; else how it is refused.

        An agent call counts towards a state for N calls and a move after N calls; `count` False
        (the version JSON) only asks.
        """
        if host == self.hosts.auth:
            # A tenant named for the first time appears on the home host, wherever it was named.
            life = self.add(tenant) if tenant and CONTEXT_IDENTIFIER.fullmatch(tenant) else None
            where = f"; {life.name} is on {life.host} now ({self.endpoint(life.name)})" if life is not None else ""
            expected = (
                f"{life.host}, the host {life.name} is on now"
                if life is not None
                else f"a numbered tenant host ({', '.join(self.hosts.tenant_hosts)})"
            )
            return Refused(life.name if life is not None else "", self._misdirected(host, expected, where))
        if not tenant:
            return Refused(
                "",
                ApiError(
                    404,
                    [Violation("path", "/<ContextIdentifier>/api/... (as /Cust12345/api/v1/...)", "no tenant")],
                    message="SuperOffice Online serves every tenant under its context identifier: "
                    f"{self.hosts.url(host)}/Cust12345/api/v1/...",
                ),
            )
        if not CONTEXT_IDENTIFIER.fullmatch(tenant):
            return None  # the tenant registry answers it with its own 400
        with self._lock:
            life = self.add(tenant)
            if life.host != host:
                where = f"; {life.name} is on {life.host} now ({self.endpoint(life.name)})"
                return Refused(
                    life.name, self._misdirected(host, f"{life.host}, the host {life.name} is on now", where)
                )
            if life.state not in RUNNING_STATES:
                retry = math.ceil(life.until - self.clock.now()) if life.until is not None else DEFAULT_RETRY_AFTER
                err = ApiError(
                    503,
                    [Violation("tenant.State", "Running or OnlineMaintenance", life.state)],
                    headers={"Retry-After": str(max(retry, 1))},
                    message=f"The tenant {life.name} is {life.state}: its APIs are not available.",
                )
                if count and life.calls_left is not None:
                    life.calls_left -= 1
                    if life.calls_left <= 0:
                        self._end_state(life)
                    self._stored()
                return Refused(life.name, err)
            if count and life.move_after is not None and life.move_to is not None:
                life.move_after -= 1
                if life.move_after <= 0:
                    to, life.move_after, life.move_to = life.move_to, None, None
                    self._move_now(life, to)  # this call still reaches the tenant; the next one meets the move
                self._stored()
            return None

    # ---- inside ------------------------------------------------------------------------------

    def _misdirected(self, host: str, expected: str, where: str) -> ApiError:
        return ApiError(421, [Violation("host", expected, host)], message=f"{WRONG_SUBDOMAIN}: {host}{where}.")

    def _end_state(self, life: Life) -> None:
        before = life.state
        life.until = life.calls_left = None
        self._change_state(life, life.then, before)

    def _change_state(self, life: Life, new: str, before: str) -> None:
        life.state = new
        if new != before:
            self._tell(Change(life.name, "state", life.host, new, before, self.clock.now()))

    def _move_now(self, life: Life, to: str) -> None:
        before, life.host = life.host, to
        if to != before:
            self._tell(Change(life.name, "move", to, life.state, before, self.clock.now()))

    def _stored(self) -> None:
        if self.store is not None:
            self.store(self)

    def _tell(self, change: Change) -> None:
        self.changes.append(change)
        self._stored()
        for listener in list(self.listeners):
            listener(change)


def new_online_life(
    hosts: tuple[str, ...], home: str | None, tenants: tuple[str, ...], valid_for: int, clock: Clock
) -> OnlineLife | None:
    """The Online tenants' life from the ``online_*`` settings; None unless `hosts` are set."""
    if not hosts:
        return None
    life = OnlineLife(Hosts(hosts, home), clock, valid_for)
    life.known = tenants
    life.reset()
    return life


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


__all__ = ["Change", "Life", "OnlineLife", "Refused", "new_online_life"]
