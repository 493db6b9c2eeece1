"""The mutable state of one fake: ids, stored images, attachments, the journal.

Where they live is the storage's business: `MemoryStorage` by default, `SqliteStorage` for a
state file that survives restarts. The fake is given one; the state opens its pieces from it.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import Any, Protocol

from mockserver.core.storage.errors import DEFAULT_IMAGE_BUDGET
from mockserver.core.storage.links import Attachments
from mockserver.core.storage.memory import ImageStore, MemoryStorage
from mockserver.core.storage.sqlite import SqliteStorage
from mockserver.core.vocabulary.budget import Budget
from mockserver.core.vocabulary.ids import IdSequence
from mockserver.core.vocabulary.journal import DEFAULT_JOURNAL_BUDGET, CallLog


class Storage(Protocol):
    """Where a fake's state lives (memory or a file)."""

    def open(self, ids: IdSequence, journal_limit: int) -> tuple[ImageStore, CallLog, Attachments]:
        """Return the image store, journal and attachments, restoring `ids` from what is kept."""
        ...

    def before_reset(self) -> None:
        """Empty what is kept, in one step if the storage can (the pieces then clear what they hold)."""
        ...

    def after_reset(self, next_id: int) -> None:
        """Make a reset durable."""
        ...

    def close(self) -> None:
        """Release what the storage holds (idempotent)."""
        ...


class State:
    """Everything a fake remembers; one per fake, nothing global.

    `image_budget` bounds the bytes of stored images, their metadata and the person and project
    links (0 = unlimited): past it the oldest images' bytes are dropped, then their metadata (see
    `ImageStore`), and the oldest links when they hold the most (links.py); `journal_budget`
    bounds the journal's bytes (see `CallLog`). Either may be a `Budget` shared with other states
    (a fake's tenants): then it bounds them all together.
    """

    def __init__(
        self,
        first_id: int = 1,
        journal_limit: int = 10_000,
        storage: Storage | None = None,
        image_budget: int | Budget = DEFAULT_IMAGE_BUDGET,
        journal_budget: int | Budget = DEFAULT_JOURNAL_BUDGET,
    ) -> None:
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self.ids = IdSequence(first_id)
        self.images, self.journal, self.attachments = self.storage.open(self.ids, journal_limit)
        images = image_budget if isinstance(image_budget, Budget) else Budget(image_budget)
        self.images.share(images)
        self.attachments.share(images)  # person and project links count against the image budget too
        self.images.limit_to(images.limit)  # a state file opened with a smaller budget evicts now
        self.journal.share(journal_budget if isinstance(journal_budget, Budget) else Budget(journal_budget))

    def writing(self) -> AbstractContextManager[Any]:
        """Held by a call from its behaviour to its journal record's commit.

        For a state file: no other thread's call writes in between, and a write the file refuses
        rolls back the call's image, links and id together (`SqliteStorage.call`). In memory
        nothing can fail half-way, so nothing is held.
        """
        if isinstance(self.storage, SqliteStorage):
            return self.storage.call()
        return contextlib.nullcontext()

    def attach(self, kind: str, key: int, blob_id: int) -> None:
        self.attachments.setdefault(kind, {})[key] = blob_id

    def reset(self) -> None:
        self.storage.before_reset()  # first: a state file that cannot be emptied leaves everything as it was
        self.ids.reset()
        self.images.clear()
        self.journal.clear(reset_seq=True)
        self.attachments.clear()
        self.storage.after_reset(self.ids.peek)

    def close(self) -> None:
        """Release the storage (a state file is unlocked; the in-memory state needs nothing)."""
        self.storage.close()
