"""A bound on the state files open at once: the least recently used idle ones are closed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.core.storage._store import Store


class OpenFiles:
    """At most `limit` stores open at once (each holds two files: the database and its WAL).

    Using a store makes it the most recent; past the limit the least recently used idle stores
    are closed (one in the middle of a transaction, or in use on another thread, is skipped).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: OrderedDict[int, Store] = OrderedDict()
        self._lock = threading.Lock()

    def touch(self, store: Store) -> None:
        with self._lock:
            key = id(store)
            if key in self._open:
                self._open.move_to_end(key)
                return
            self._open[key] = store
            excess = len(self._open) - self.limit
            for other in list(self._open.values()):
                if excess <= 0:
                    break
                if other is not store and other.suspend():
                    del self._open[id(other)]
                    excess -= 1

    def forget(self, store: Store) -> None:
        with self._lock:
            self._open.pop(id(store), None)

    def __len__(self) -> int:
        return len(self._open)


__all__ = ["OpenFiles"]
