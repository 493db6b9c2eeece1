"""The mutable state of one fake: ids, stored images, attachments, the journal."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ids import IdSequence
from .images import ImageInfo
from .journal import CallLog


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image as stored: the bytes once, plus what was said about them."""

    blob_id: int
    data: bytes
    info: ImageInfo
    type: str | None
    description: str | None


# An image as the store keeps it: (data, size, sha256, format, type, description). A tuple of
# atomic values is untracked by the garbage collector, so a long run's hundred thousand images
# do not lengthen every full collection (as two dataclass objects per image did).
_Row = tuple[bytes, int, str, str | None, str | None, str | None]


class ImageStore(Mapping[int, bytes]):
    """Blob id → bytes, read-only to users (``fake.images[33]``)."""

    def __init__(self) -> None:
        self._items: dict[int, _Row] = {}
        self._lock = threading.Lock()

    def put(
        self, blob_id: int, data: bytes, type: str | None, description: str | None, info: ImageInfo | None = None
    ) -> StoredImage:
        info = info or ImageInfo.of(data)
        with self._lock:
            self._items[blob_id] = (data, info.size, info.sha256, info.format, type, description)
        return StoredImage(blob_id, data, info, type, description)

    def entry(self, blob_id: int) -> StoredImage | None:
        row = self._items.get(blob_id)
        if row is None:
            return None
        data, size, sha256, fmt, type_, description = row
        return StoredImage(blob_id, data, ImageInfo(size, sha256, fmt), type_, description)

    def __getitem__(self, blob_id: int) -> bytes:
        try:
            return self._items[blob_id][0]
        except KeyError:
            known = ", ".join(map(str, list(self._items)[:10])) or "none"
            raise KeyError(f"no image with blob id {blob_id} (stored ids: {known})") from None

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class State:
    """Everything a fake remembers; one per fake, nothing global."""

    def __init__(self, first_id: int = 1, journal_limit: int = 10_000, path: Path | None = None) -> None:
        self.ids = IdSequence(first_id)
        self.images = ImageStore()
        self.journal = CallLog(journal_limit)
        self.attachments: dict[str, dict[int, int]] = {}
        self.store: Any = None
        if path is not None:  # --state: swap in file-backed images, journal and attachments
            from .persist import open_store

            self.store = open_store(self, path)

    def attach(self, kind: str, key: int, blob_id: int) -> None:
        self.attachments.setdefault(kind, {})[key] = blob_id

    def reset(self) -> None:
        self.ids.reset()
        self.images.clear()
        self.journal.clear(reset_seq=True)
        self.attachments.clear()
        if self.store is not None:
            self.store.commit(next_id=self.ids.peek, next_seq=1, dropped=0)

    def close(self) -> None:
        """Release the state file, if any (the in-memory state needs nothing)."""
        if self.store is not None:
            self.store.close()
