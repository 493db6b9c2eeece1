"""The deterministic blob id sequence."""

from __future__ import annotations

import threading

from mockserver.core.vocabulary.contract import INT32_MAX
from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation


class IdSequence:
    """Hands out first, first+1, … ; never reuses or skips; refuses to pass int32 max."""

    def __init__(self, first: int = 1) -> None:
        if not 1 <= first <= INT32_MAX:
            raise ConfigError(f"first id must be between 1 and {INT32_MAX} (got {first})")
        self.first = first
        self._next = first
        self._lock = threading.Lock()

    @property
    def peek(self) -> int:
        """The id the next accepted save will get."""
        return self._next

    def take(self) -> int:
        """Consume and return the next id; past int32 max raise a 507 `ApiError` and consume nothing."""
        with self._lock:
            value = self._next
            if value > INT32_MAX:
                # 507 Insufficient Storage: the request is fine, the fake has no id left to
                # store it under. Not a 4xx (the client did nothing wrong) and never a wrapped id.
                raise ApiError(
                    507,
                    [Violation("state.next_id", f"at most {INT32_MAX} (int32)", str(value))],
                    message=f"The blob id sequence is exhausted: the next id would be {value}, "
                    f"beyond the int32 maximum {INT32_MAX}. Reset the fake or start it with a lower --first-id.",
                )
            self._next = value + 1
            return value

    def set_next(self, value: int) -> None:
        """Continue the sequence at `value` (used when state is restored)."""
        with self._lock:
            self._next = value

    def reset(self) -> None:
        with self._lock:
            self._next = self.first
