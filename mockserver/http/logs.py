"""A log that one failing condition cannot flood: each traceback at most once a minute.

When the process runs out of file descriptors, every accept and every request fails the same
way; logging each failure's traceback wrote 164 MB in under a minute. `OncePerMinute` lets the
first record of each kind (logger, exception type and the line that raised) through,
drops the repeats for a minute, and says on the next one let through how many it dropped.
Records without a traceback pass untouched. `mockserver serve` and `mockserver proxy` put it on
their log handler; a fake started from Python leaves the caller's logging alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

INTERVAL = 60.0  # seconds between two records of the same traceback
KINDS_KEPT = 1024  # kinds of traceback remembered; the oldest is forgotten past it


class OncePerMinute(logging.Filter):
    """Pass a record with a traceback only if none of its kind passed within `interval` seconds."""

    def __init__(self, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self.seen: dict[tuple[Any, ...], list[float | int]] = {}  # kind -> [last passed, dropped since]

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        key = kind_of(record)
        now = self.clock()
        entry = self.seen.get(key)
        if entry is not None and now - entry[0] < self.interval:
            entry[1] += 1
            return False
        dropped = int(entry[1]) if entry is not None else 0
        self.seen.pop(key, None)
        self.seen[key] = [now, 0]
        if len(self.seen) > KINDS_KEPT:
            del self.seen[next(iter(self.seen))]
        if dropped:
            record.msg = (
                f"{record.msg} (the same error {dropped} more times in the last {self.interval:g} s, not logged)"
            )
        return True


def kind_of(record: logging.LogRecord) -> tuple[Any, ...]:
    """What makes two tracebacks the same: logger, exception type and errno, the line that raised.

    Not the message: asyncio's carries the failing handle's repr, different every time.
    """
    assert record.exc_info is not None
    _type, exc, tb = record.exc_info
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else None
    return (record.name, type(exc).__name__, getattr(exc, "errno", None), where)


def limit_tracebacks(handlers: list[logging.Handler] | None = None) -> None:
    """Put `OncePerMinute` on `handlers` (default: the root logger's, as logging.basicConfig made them)."""
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if not any(isinstance(f, OncePerMinute) for f in handler.filters):
            handler.addFilter(OncePerMinute())
