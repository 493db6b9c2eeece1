"""The default storage: images, journal and attachments in memory, gone when the fake is."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..ids import IdSequence
from ..images import ImageInfo
from ..journal import CallLog


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image as stored: the bytes once, plus what was said about them."""

    blob_id: int
    data: bytes
    info: ImageInfo
    type: str | None
    description: str | None


class ImageStore(Mapping[int, bytes]):
    """Blob id → bytes, read-only to users (``fake.images[33]``).

    Each field lives in its own dict of atomic values (bytes, int, str, None). Such dicts are
    never tracked by the garbage collector, so stored images add no objects for it to count or
    walk: a long run's hundred thousand images neither trigger collections nor lengthen them
    (two dataclass objects per image made full collections of 50-100 ms).
    """

    def __init__(self) -> None:
        self._data: dict[int, bytes] = {}
        self._sha256: dict[int, str] = {}
        self._format: dict[int, str | None] = {}
        self._type: dict[int, str | None] = {}
        self._description: dict[int, str | None] = {}
        self._lock = threading.Lock()

    def put(
        self, blob_id: int, data: bytes, type: str | None, description: str | None, info: ImageInfo | None = None
    ) -> StoredImage | None:
        """Store an image. Returns nothing (subclasses may return the StoredImage): no caller uses it."""
        info = info or ImageInfo.of(data)
        with self._lock:
            self._sha256[blob_id] = info.sha256
            self._format[blob_id] = info.format
            self._type[blob_id] = type
            self._description[blob_id] = description
            self._data[blob_id] = data  # last: a reader that finds the bytes finds the rest
        return None

    def entry(self, blob_id: int) -> StoredImage | None:
        data = self._data.get(blob_id)
        if data is None:
            return None
        info = ImageInfo(len(data), self._sha256[blob_id], self._format[blob_id])
        return StoredImage(blob_id, data, info, self._type[blob_id], self._description[blob_id])

    def __getitem__(self, blob_id: int) -> bytes:
        try:
            return self._data[blob_id]
        except KeyError:
            known = ", ".join(map(str, list(self._data)[:10])) or "none"
            raise KeyError(f"no image with blob id {blob_id} (stored ids: {known})") from None

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            for field in (self._sha256, self._format, self._type, self._description):
                field.clear()


class MemoryStorage:
    """Keeps everything in the fake's own objects; nothing to restore, commit or close."""

    def open(self, ids: IdSequence, journal_limit: int) -> tuple[ImageStore, CallLog, dict[str, dict[int, int]]]:
        return ImageStore(), CallLog(journal_limit), {}

    def after_reset(self, next_id: int) -> None:
        """Nothing to write: the in-memory pieces were cleared by the state itself."""

    def close(self) -> None:
        """Nothing to release."""
