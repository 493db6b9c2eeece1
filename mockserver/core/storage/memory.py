"""The default storage: images, journal and attachments in memory, gone when the fake is."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mockserver.core.storage.errors import ImageEvicted
from mockserver.core.storage.links import Attachments
from mockserver.core.vocabulary.budget import Budget
from mockserver.core.vocabulary.ids import IdSequence
from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.journal import CallLog


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image as stored: the bytes once, plus what was said about them.

    `data` is None when the image budget evicted the bytes; everything else is still known,
    unless `forgotten`: the budget dropped the metadata too, and only the id is known to be issued.
    """

    blob_id: int
    data: bytes | None
    info: ImageInfo
    type: str | None
    description: str | None
    forgotten: bool = False

    @property
    def evicted(self) -> bool:
        return self.data is None


# What one image's metadata costs besides its type and description: six dict entries, the id,
# the size and the SHA-256 text (measured: tests/core/test_memory_budget.py).
METADATA_WEIGHT = 512
UNKNOWN = ImageInfo(0, "", None)


def metadata_weight(type: str | None, description: str | None) -> int:
    return METADATA_WEIGHT + len(type or "") + len(description or "")


class ImageStore(Mapping[int, bytes]):
    """Blob id → bytes, read-only to users (``fake.images[33]``), within a byte budget.

    The budget (`budget.Budget`, shared by every tenant of a fake) counts the image bytes and
    each image's metadata (`metadata_weight`: its description and type included). Past it the
    oldest images' bytes are dropped first; their metadata stays, so ``entry(id)`` still
    describes them and ``images[id]`` raises `ImageEvicted` (a KeyError) rather than "no image".
    When nothing but metadata is left to drop, the oldest metadata goes too: the id is then
    `forgotten` (still answered as evicted, 410, never as unknown). The newest image is always
    kept, even alone over the budget (the newest of every store sharing the budget: another store
    may give up all it holds). Iterating and ``len`` cover the images whose bytes are held.

    Each field lives in its own dict of atomic values (bytes, int, str, None). Such dicts are
    never tracked by the garbage collector, so stored images add no objects for it to count or
    walk: a long run's hundred thousand images neither trigger collections nor lengthen them
    (two dataclass objects per image made full collections of 50-100 ms).
    """

    def __init__(self, budget: int = 0) -> None:
        self._data: dict[int, bytes] = {}
        self._size: dict[int, int] = {}
        self._sha256: dict[int, str] = {}
        self._format: dict[int, str | None] = {}
        self._type: dict[int, str | None] = {}
        self._description: dict[int, str | None] = {}
        self._order: deque[int] = deque()  # ids whose bytes are held, oldest first
        self._known: deque[int] = deque()  # ids whose metadata is held, oldest first
        self._held = 0  # image bytes held
        self.held = 0  # image bytes and metadata: what the budget counts
        self._newest: int | None = None
        self._lowest: int | None = None  # the lowest id stored since the last clear
        self._forgotten_through = 0  # every stored id up to here whose metadata is gone was forgotten
        self.shared = Budget(budget)
        self.shared.join(self)
        self._lock = self.shared.lock

    @property
    def budget(self) -> int:
        """The budget's limit in bytes (0 = unlimited), every tenant's images together."""
        return self.shared.limit

    @budget.setter
    def budget(self, limit: int) -> None:
        self.shared.limit = limit

    def share(self, budget: Budget) -> None:
        """Count this store against `budget` from now on (a fake's image stores share one)."""
        with self._lock:
            self.shared.leave(self)
            self.shared = budget
            budget.join(self)
            self._lock = budget.lock
        with self._lock:
            budget.settle()

    @property
    def held_bytes(self) -> int:
        """The bytes of images currently held."""
        return self._held

    def limit_to(self, budget: int) -> None:
        """Set the budget (0 = unlimited) and evict at once whatever it no longer leaves room for."""
        self.shared.set_limit(budget)

    def put(
        self, blob_id: int, data: bytes, type: str | None, description: str | None, info: ImageInfo | None = None
    ) -> StoredImage | None:
        """Store an image. Returns nothing (subclasses may return the StoredImage): no caller uses it."""
        info = info or ImageInfo.of(data)
        with self._lock:
            if blob_id in self._sha256:  # stored again under the same id: the old one no longer counts
                self._drop(blob_id)
                self._forget(blob_id)
                self._known.remove(blob_id)
            self._size[blob_id] = len(data)
            self._sha256[blob_id] = info.sha256
            self._format[blob_id] = info.format
            self._type[blob_id] = type
            self._description[blob_id] = description
            self._data[blob_id] = data
            self._order.append(blob_id)
            self._known.append(blob_id)
            self._newest = blob_id
            if self._lowest is None or blob_id < self._lowest:
                self._lowest = blob_id
            self._held += len(data)
            shared = self.shared
            shared.newest = self
            shared.charge(self, len(data) + metadata_weight(type, description))
            if shared.limit and shared.held > shared.limit:
                shared.settle()
        return None

    def _drop(self, blob_id: int) -> None:
        data = self._data.pop(blob_id, None)
        if data is not None:
            self._held -= len(data)
            self.shared.charge(self, -len(data))
            self._order.remove(blob_id)

    def _forget(self, blob_id: int) -> None:
        """Drop an image's metadata (its bytes are gone already)."""
        del self._size[blob_id], self._sha256[blob_id], self._format[blob_id]
        self.shared.charge(self, -metadata_weight(self._type.pop(blob_id), self._description.pop(blob_id)))

    def shed(self) -> bool:
        """Give up the oldest bytes, else the oldest metadata (budget lock held).

        The newest image of the whole budget (every tenant's) stays; another store may give up all.
        """
        keep = self.shared.newest is self
        if len(self._order) > keep:
            data = self._data.pop(self._order.popleft())
            self._held -= len(data)
            self.shared.charge(self, -len(data))
            return True
        if not self._known or (keep and self._known[0] == self._newest):
            return False
        blob_id = self._known.popleft()
        self._data.pop(blob_id, None)
        self._forget(blob_id)
        self._forgotten_through = max(self._forgotten_through, blob_id)
        return True

    def _forgotten(self, blob_id: int) -> bool:
        return self._lowest is not None and self._lowest <= blob_id <= self._forgotten_through

    def entry(self, blob_id: int) -> StoredImage | None:
        """The image and its metadata; None if never stored; ``data`` None if evicted."""
        with self._lock:
            sha256 = self._sha256.get(blob_id)
            if sha256 is None:
                return StoredImage(blob_id, None, UNKNOWN, None, None, True) if self._forgotten(blob_id) else None
            info = ImageInfo(self._size[blob_id], sha256, self._format[blob_id])
            return StoredImage(blob_id, self._data.get(blob_id), info, self._type[blob_id], self._description[blob_id])

    def evicted_ids(self) -> list[int]:
        """The ids whose bytes the budget dropped and whose metadata is still held, oldest first."""
        with self._lock:
            return [blob_id for blob_id in self._sha256 if blob_id not in self._data]

    def __getitem__(self, blob_id: int) -> bytes:
        data = self._data.get(blob_id)
        if data is not None:
            return data
        if blob_id in self._sha256 or self._forgotten(blob_id):
            raise ImageEvicted(blob_id, self.budget)
        known = ", ".join(map(str, list(self._data)[:10])) or "none"
        raise KeyError(f"no image with blob id {blob_id} (stored ids: {known})")

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._order.clear()
            self._known.clear()
            self._held = 0
            self.shared.charge(self, -self.held)
            self._newest = self._lowest = None
            self._forgotten_through = 0
            for field in (self._size, self._sha256, self._format, self._type, self._description):
                field.clear()


class MemoryStorage:
    """Keeps everything in the fake's own objects; nothing to restore, commit or close."""

    def open(self, ids: IdSequence, journal_limit: int) -> tuple[ImageStore, CallLog, Attachments]:
        return ImageStore(), CallLog(journal_limit), Attachments()

    def before_reset(self) -> None:
        """Nothing to empty: the state clears the in-memory pieces itself."""

    def after_reset(self, next_id: int) -> None:
        """Nothing to write: the in-memory pieces were cleared by the state itself."""

    def close(self) -> None:
        """Nothing to release."""
