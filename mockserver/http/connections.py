"""Connections a few clients cannot hoard: a deadline for each request's head, and a cap below the fd limit.

A client that opens connections and sends a header byte a second (slowloris) would otherwise
hold a file descriptor each for as long as it likes, until no one else can connect. Here:

- every request's head (request line and headers) must arrive within ``header_timeout`` seconds
  of its first byte (of the connection, for the first request): past it the client gets a
  ``408`` in SuperOffice's error shape and the connection is closed. Nothing is journaled: no
  request was read;
- a keep-alive connection idle for ``idle_timeout`` seconds is closed (aiohttp's keep-alive timer);
- at most ``max_connections`` are open at once, by default the open-file limit less a reserve
  (`fd_room`) for state files, the log and the proxy's upstream. When one more arrives, the
  connection that has waited longest for a request's head (told so with a 408), or else the
  oldest idle keep-alive one (quietly), is closed to make room: clients that send whole
  requests keep being served. Only when every connection is busy with a request is the new one
  refused, with a ``503``.
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from ..core.body.codecs import encode_error
from ..core.config import Settings
from ..core.vocabulary.errors import ApiError, Violation

# File descriptors kept back from connections: at least this many, or a tenth of the limit.
FD_RESERVE_MIN = 64
FD_RESERVE_SHARE = 10


def open_file_limit() -> tuple[int, int]:
    """The process's open-file limit (RLIMIT_NOFILE): (soft, hard); -1 for unlimited."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return (soft if soft != resource.RLIM_INFINITY else -1), (hard if hard != resource.RLIM_INFINITY else -1)


def fd_room(soft: int) -> int:
    """How many connections the open-file limit leaves room for, after the reserve."""
    if soft < 0:
        return 65536
    return max(soft - max(FD_RESERVE_MIN, soft // FD_RESERVE_SHARE), 1)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The deadlines and cap one server applies to its connections."""

    header_timeout: float
    max_connections: int
    open_files: int  # the soft open-file limit at start (-1: unlimited)

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        soft, _hard = open_file_limit()
        cap = settings.max_connections or fd_room(soft)
        return cls(float(settings.header_timeout), cap, soft)

    def describe(self) -> str:
        """One line for the start banner."""
        files = "unlimited" if self.open_files < 0 else str(self.open_files)
        return (
            f"open-file limit {files}: at most {self.max_connections} connections; "
            f"headers within {self.header_timeout:g} s"
        )


class Connections:
    """The limits one server applies, and what it has done: connections open, cut, refused (for /_health)."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open = 0
        self.slow_heads_cut = 0
        self.evicted = 0
        self.refused = 0

    def to_json(self) -> dict[str, Any]:
        limits = self.limits
        return {
            "open": self.open,
            "max": limits.max_connections,
            "open_file_limit": limits.open_files,
            "header_timeout_s": limits.header_timeout,
            "slow_heads_cut": self.slow_heads_cut,
            "evicted": self.evicted,
            "refused": self.refused,
        }


CONNECTIONS_KEY: web.AppKey[Connections] = web.AppKey("connections", Connections)


def canned(err: ApiError) -> bytes:
    """A whole HTTP/1.1 answer in SuperOffice's error shape, written straight to a socket."""
    body = encode_error(err.body(), "json")
    head = (
        f"HTTP/1.1 {err.status} {HTTPStatus(err.status).phrase}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
    )
    extra = "".join(f"{name}: {value}\r\n" for name, value in err.headers.items() if name.lower() != "connection")
    return (head + extra + "\r\n").encode("latin-1") + body


class GuardedHandler(RequestHandler):
    """A connection with a deadline for each request's head, counted against the server's cap.

    The deadline costs a request no timer of its own: the first bytes of a head note the time,
    and one timer per connection (`_tick`) looks at it when the oldest head could be due, then
    sets itself for the next time one could be. A request pays two attribute writes and a clock read.
    """

    tally: Connections
    _timer: asyncio.TimerHandle | None = None
    _head_since: float = 0.0
    _heads_seen: int = 0
    _in_head: bool = False
    _counted: bool = False

    @property
    def limits(self) -> ConnectionLimits:
        return self.tally.limits

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._counted = True
        self.tally.open += 1
        if not self._make_room():
            self.tally.refused += 1
            self._refuse(_full(self.limits.max_connections))
            return
        loop = asyncio.get_running_loop()
        self._in_head, self._head_since = True, loop.time()  # the first head is due from the connection's start
        self._timer = loop.call_at(self._head_since + self.limits.header_timeout, self._tick)

    def data_received(self, data: bytes) -> None:
        if not self._in_head and self._waiter is not None:  # the first bytes of a new request
            self._in_head, self._head_since, self._heads_seen = True, self._loop.time(), self._request_count
        super().data_received(data)
        if self._request_count != self._heads_seen:  # a whole head arrived
            self._in_head, self._heads_seen = False, self._request_count

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_timer()
        if self._counted:
            self._counted = False
            self.tally.open -= 1
        super().connection_lost(exc)

    @property
    def waiting_for_head(self) -> bool:
        return self._in_head

    @property
    def idle(self) -> bool:
        return self._waiter is not None and not self._messages

    def _tick(self) -> None:
        """Cut the connection if its head is overdue; else look again when the next one could be."""
        self._timer = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        timeout = self.limits.header_timeout
        now = self._loop.time()
        if self._in_head and now - self._head_since >= timeout:
            self.tally.slow_heads_cut += 1
            self._refuse(_slow_head(timeout))
            return
        due = self._head_since + timeout if self._in_head else now + timeout
        self._timer = self._loop.call_at(due, self._tick)

    def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        self._in_head = False
        if timer is not None:
            timer.cancel()

    def _refuse(self, err: ApiError) -> None:
        self._stop_timer()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(canned(err))
        self.force_close()

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a head, or the oldest idle one, if over the cap."""
        manager = self._manager
        if manager is None:
            return True
        others = [h for h in manager.connections if h is not self and isinstance(h, GuardedHandler)]
        if len(others) < self.limits.max_connections:
            return True
        slow = sorted((h for h in others if h.waiting_for_head), key=lambda h: h._head_since)
        if slow:  # told why: it had sent part of a request
            self.tally.evicted += 1
            slow[0]._refuse(_evicted())
            return True
        idle = next((h for h in others if h.idle), None)
        if idle is None:
            return False
        self.tally.evicted += 1
        idle.force_close()  # closed quietly, as the idle timeout does: a client opens a new one
        return True


def _slow_head(timeout: float) -> ApiError:
    return ApiError(
        408,
        [Violation("request", f"a request line and headers within {timeout:g} s (--header-timeout)", "less")],
        message="The request's headers did not arrive in time; the connection is closed.",
        error_type="TimeoutException",
    )


def _evicted() -> ApiError:
    return ApiError(
        408,
        [Violation("request", "a whole request soon after connecting", "a connection waiting while others queued")],
        message="The connection waited too long for a request while the fake was at its connection limit.",
        error_type="TimeoutException",
    )


def _full(cap: int) -> ApiError:
    return ApiError(
        503,
        [Violation("connection", f"one of at most {cap} connections (--max-connections)", f"connection {cap + 1}")],
        message="The fake has as many connections as it can hold, each busy with a request; try again shortly.",
        headers={"Retry-After": "1"},
    )
