"""The one bounded cache every cache of the core is: at most `size` entries, the oldest dropped first.

A client sends the same few header sets, errors and pictures again and again, so the core keeps
what it worked out for them; a client varying them endlessly must cost a bounded amount of memory.
`docs/architecture.md` lists every cache: what it keys on, how big, why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A mapping of at most `size` entries that forgets its oldest entry to make room.

    Reads take no lock (a dict read is atomic); writes do, since big bodies are processed on
    worker threads. `keep_first` caches never drop an entry: once full they simply stop adding,
    for keys of which only a handful exist (the media types contracts offer).
    """

    __slots__ = ("_data", "_lock", "keep_first", "size")

    def __init__(self, size: int, *, keep_first: bool = False) -> None:
        if size < 1:
            raise ValueError(f"a bounded cache holds at least one entry, not {size}")
        self.size = size
        self.keep_first = keep_first
        self._data: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for `key`, or None. Raises TypeError for an unhashable key."""
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`, dropping the oldest entry when full (or, `keep_first`, adding nothing)."""
        with self._lock:
            data = self._data
            if key not in data and len(data) >= self.size:
                if self.keep_first:
                    return
                del data[next(iter(data))]
            data[key] = value

    def get_or_make(self, key: K, make: Callable[[K], V]) -> V:
        """The value kept for `key`, made by `make(key)` and kept when missing."""
        value = self._data.get(key)
        if value is None:
            value = make(key)
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._data))


__all__ = ["BoundedCache"]
