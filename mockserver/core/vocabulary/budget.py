"""One byte budget shared by several holders: a fake's journals, or its image stores, across every tenant.

The operator sets one number for the whole fake. Each holder (one tenant's journal or image
store) says what it holds; past the limit the holder holding the most gives up its oldest item,
again and again until everything fits. So a tenant that holds less than an equal share never
loses anything to a busy one, and a single tenant may use the whole budget while it is alone.

All holders of one budget share its lock (`lock`): a holder changes what it holds, and the
budget makes another holder give something up, under that one lock, so no two locks are ever
taken in opposite orders.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Holder(Protocol):
    """Something that holds bytes against a `Budget`."""

    held: int

    def shed(self) -> bool:
        """Give up the oldest item that may go (releasing its bytes); False when nothing may."""
        ...


class Budget:
    """`limit` bytes (0 = unlimited) for every holder that joined, counted in `held`."""

    def __init__(self, limit: int = 0) -> None:
        if limit < 0:
            raise ValueError(f"a budget is 0 (unlimited) or more bytes (got {limit})")
        self.limit = limit
        self.held = 0
        self.shed_count = 0  # items given up to make room, over the budget's life
        self.newest: Holder | None = None  # the holder that added last: its newest item always stays
        self.lock = threading.RLock()
        self._holders: list[Holder] = []

    def join(self, holder: Holder) -> None:
        with self.lock:
            self._holders.append(holder)
            self.held += holder.held

    def leave(self, holder: Holder) -> None:
        with self.lock:
            if self.newest is holder:
                self.newest = None
            if holder in self._holders:
                self._holders.remove(holder)
                self.held -= holder.held

    def adopt(self, holder: Holder, previous: Budget) -> None:
        """Take `holder` over from the budget it counted against, then settle (it names this one already)."""
        with previous.lock:
            previous.leave(holder)
        with self.lock:
            self.join(holder)
            self.settle()

    def charge(self, holder: Holder, size: int) -> None:
        """`holder` now holds `size` more bytes (negative: fewer). Callers hold `lock`.

        A holder that adds an item sets `newest` to itself: only that one item is kept whatever the budget.
        """
        holder.held += size
        self.held += size

    def settle(self) -> None:
        """Make the largest holders give up their oldest items until the held bytes fit. Callers hold `lock`."""
        holders = self._holders
        while self.limit and self.held > self.limit:
            if len(holders) == 1:
                if not holders[0].shed():
                    return
            elif not (
                max(holders, key=_held).shed() or any(h.shed() for h in sorted(holders, key=_held, reverse=True))
            ):
                return
            self.shed_count += 1

    def set_limit(self, limit: int) -> None:
        with self.lock:
            self.limit = limit
            self.settle()


def _held(holder: Holder) -> int:
    return holder.held


__all__ = ["Budget", "Holder"]
