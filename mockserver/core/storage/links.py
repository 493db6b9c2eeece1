"""Person and project links (``ChangePersonImage``, ``ChangeProjectImage``), within the image budget.

A link is an entity id → blob id under its kind (``person``, ``project``). Each link counts
`LINK_WEIGHT` bytes against the fake's image budget, the one a tenant's images share, so a client
that links endlessly many distinct ids cannot grow the fake without bound: when the links are
the largest holder of that budget, the oldest link of the kind with the most goes (the newest
link stays while it was the budget's last addition). Linking an id again makes it the newest.

`Attachments` keeps the links in memory; the state file's (sqlite.py) writes every change
through and gives links up inside the file's own transaction rules (`Store.give_up`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any

from mockserver.core.vocabulary.budget import Budget

# What one link costs in memory: its dict entry and two ints (measured: tests/core/test_memory_budget.py).
LINK_WEIGHT = 128


class Links(dict[int, int]):
    """Entity id → blob id for one kind; every change goes through its `Attachments`, which counts it."""

    def __init__(self, owner: Attachments, kind: str) -> None:
        super().__init__()
        self._owner = owner
        self.kind = kind

    def __setitem__(self, key: int, blob_id: int) -> None:
        self._owner.link(self.kind, key, blob_id)

    def __delitem__(self, key: int) -> None:
        if key not in self:
            raise KeyError(key)
        self._owner.unlink(self.kind, key)

    def pop(self, key: int, *default: Any) -> Any:
        if key in self:
            value = dict.__getitem__(self, key)
            self._owner.unlink(self.kind, key)
            return value
        return super().pop(key, *default)

    def update(self, other: Mapping[int, int] | Iterable[tuple[int, int]] = (), **kwargs: int) -> None:  # type: ignore[override]
        items = other.items() if isinstance(other, Mapping) else other
        for key, blob_id in items:
            self[key] = blob_id

    def clear(self) -> None:
        self._owner.unlink_all(self.kind)


class Attachments(dict[str, Links]):
    """Kind → `Links`: what ``state.attachments`` is. A holder of the image budget (budget.py)."""

    def __init__(self) -> None:
        super().__init__()
        self.held = 0  # LINK_WEIGHT per link: what the budget counts
        self.shared = Budget(0)
        self.shared.join(self)
        self._newest: tuple[str, int] | None = None

    # ---- where a file differs (sqlite.py overrides these) -------------------------------------

    def _writing(self) -> AbstractContextManager[Any]:
        """Held while a link changes: in memory the budget's lock; a file's own lock (taken before the budget's)."""
        return self.shared.lock

    def _giving_up(self, step: Callable[[], bool]) -> bool:
        return step()

    def _wrote(self, kind: str, key: int, blob_id: int) -> None:
        """A link was made or changed."""

    def _deleted(self, kind: str, key: int) -> None:
        """A link went."""

    def _cleared(self, kind: str) -> None:
        """Every link of `kind` went."""

    # ---- the mapping ----------------------------------------------------------------------------

    def share(self, budget: Budget) -> None:
        """Count the links against `budget` from now on (the image budget a fake's tenants share)."""
        with self._writing():
            previous, self.shared = self.shared, budget
            budget.adopt(self, previous)

    def setdefault(self, kind: str, default: Mapping[int, int] | None = None) -> Links:
        if kind not in self:
            dict.__setitem__(self, kind, Links(self, kind))
            self[kind].update(default or {})
        return self[kind]

    def __setitem__(self, kind: str, value: Mapping[int, int]) -> None:
        self.pop(kind, None)
        self.setdefault(kind, value)

    def pop(self, kind: str, *default: Any) -> Any:
        links = self.get(kind)
        if links is not None:
            links.clear()
        return super().pop(kind, *default)

    def clear(self) -> None:
        for links in self.values():
            links.clear()
        super().clear()

    # ---- changes, counted -----------------------------------------------------------------------

    def link(self, kind: str, key: int, blob_id: int) -> None:
        links = self.setdefault(kind)
        with self._writing():
            new = key not in links
            if not new:
                dict.__delitem__(links, key)  # linked again: now the newest
            dict.__setitem__(links, key, blob_id)
            self._wrote(kind, key, blob_id)
            with self.shared.lock:
                self._newest = (kind, key)
                self.shared.newest = self
                if new:
                    self.shared.charge(self, LINK_WEIGHT)
                    if self.shared.limit and self.shared.held > self.shared.limit:
                        self.shared.settle()

    def unlink(self, kind: str, key: int) -> None:
        with self._writing():
            dict.__delitem__(self[kind], key)
            self._deleted(kind, key)
            with self.shared.lock:
                self.shared.charge(self, -LINK_WEIGHT)

    def unlink_all(self, kind: str) -> None:
        with self._writing():
            links = self[kind]
            count = len(links)
            dict.clear(links)
            self._cleared(kind)
            with self.shared.lock:
                self.shared.charge(self, -LINK_WEIGHT * count)

    def shed(self) -> bool:
        """Give up the oldest link of the kind with the most (the budget settling; its lock held)."""
        return self._giving_up(self._shed_one)

    def _shed_one(self) -> bool:
        keep = self._newest if self.shared.newest is self else None
        for links in sorted(self.values(), key=len, reverse=True):
            oldest = next((key for key in islice(links, 2) if (links.kind, key) != keep), None)
            if oldest is not None:
                dict.__delitem__(links, oldest)
                self._deleted(links.kind, oldest)
                self.shared.charge(self, -LINK_WEIGHT)
                return True
        return False

    def _recount(self) -> None:
        """Count what the links hold again (after they were read from a file); budget lock taken here."""
        with self.shared.lock:
            self.shared.charge(self, LINK_WEIGHT * sum(len(links) for links in self.values()) - self.held)


__all__ = ["LINK_WEIGHT", "Attachments", "Links"]
