"""`CallList`: the immutable, filterable view of journal records users read (``fake.calls``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import overload

from mockserver.core.vocabulary.records import CallRecord


class CallList:
    """An immutable, filterable list of call records (like respx's CallList)."""

    __slots__ = ("_items",)

    def __init__(self, items: tuple[CallRecord, ...] | list[CallRecord]) -> None:
        self._items = tuple(items)

    @overload
    def __getitem__(self, index: int) -> CallRecord: ...
    @overload
    def __getitem__(self, index: slice) -> CallList: ...
    def __getitem__(self, index: int | slice) -> CallRecord | CallList:
        if isinstance(index, slice):
            return CallList(self._items[index])
        return self._items[index]

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CallList):
            return self._items == other._items
        if isinstance(other, list | tuple):
            return list(self._items) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"CallList({len(self._items)} calls)"

    @property
    def count(self) -> int:
        return len(self._items)

    @property
    def called(self) -> bool:
        return bool(self._items)

    @property
    def last(self) -> CallRecord:
        if not self._items:
            raise IndexError("no calls were recorded")
        return self._items[-1]

    @property
    def first(self) -> CallRecord:
        if not self._items:
            raise IndexError("no calls were recorded")
        return self._items[0]

    def filter(
        self,
        predicate: Callable[[CallRecord], bool] | None = None,
        *,
        outcome: str | None = None,
        type: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        method: str | None = None,
    ) -> CallList:
        """Keep the calls that match every given criterion (`path` compares case-insensitively)."""
        if outcome is not None and outcome not in {"accepted", "rejected"}:
            raise ValueError(f"outcome must be 'accepted' or 'rejected' (got {outcome!r})")

        def keep(r: CallRecord) -> bool:
            return (
                (outcome is None or r.outcome == outcome)
                and (type is None or (r.type or "").lower() == type.lower())
                and (path is None or r.path.lower().rstrip("/") == path.lower().rstrip("/"))
                and (operation is None or (r.operation or "").lower() == operation.lower())
                and (status is None or r.status == status)
                and (method is None or r.method == method.upper())
                and (predicate is None or predicate(r))
            )

        return CallList([r for r in self._items if keep(r)])

    @property
    def accepted(self) -> CallList:
        return self.filter(outcome="accepted")

    @property
    def rejected(self) -> CallList:
        return self.filter(outcome="rejected")


__all__ = ["CallList"]
