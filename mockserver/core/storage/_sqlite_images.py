"""The image store of a state file: bytes and metadata in the file, within the image budget.

Blobs are content-addressed (`blobs` by SHA-256), so the budget counts each distinct picture
once, and eviction goes by a blob's newest save: the blob whose latest image is the oldest goes
first, and its images keep their metadata row. Each image's metadata row counts against the
budget too (`metadata_weight`: its description and type included): once no more bytes can go,
the oldest rows go, so the file stops growing under steady load (the same picture saved a
million times is one blob but a million rows). An id whose row went is `forgotten_through`:
still known to be issued (410 Gone), never "unknown". Reading checks the bytes against their SHA-256,
so data damaged inside the file is reported as such instead of being served. What was read is
kept in a small cache (`SERVE_CACHE` bytes): fifty clients fetching one image share one copy.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator

from mockserver.core.storage._store import Store
from mockserver.core.storage.errors import ImageEvicted
from mockserver.core.storage.memory import METADATA_WEIGHT, ImageStore, StoredImage, metadata_weight
from mockserver.core.vocabulary.budget import Budget
from mockserver.core.vocabulary.images import ImageInfo

SERVE_CACHE = 64 * 1024 * 1024
HELD = "EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = i.sha256)"
FORGOTTEN = ImageInfo(0, "", None)


class RecentBlobs:
    """The bytes of recently read blobs by SHA-256, at most `limit` bytes (callers hold the store's lock)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, sha256: str) -> bytes | None:
        data = self._items.get(sha256)
        if data is not None:
            self._items.move_to_end(sha256)
        return data

    def put(self, sha256: str, data: bytes) -> None:
        if len(data) > self.limit or sha256 in self._items:
            return
        self._items[sha256] = data
        self._size += len(data)
        while self._size > self.limit:
            self._size -= len(self._items.popitem(last=False)[1])

    def discard(self, sha256: str) -> None:
        data = self._items.pop(sha256, None)
        if data is not None:
            self._size -= len(data)

    def clear(self) -> None:
        self._items.clear()
        self._size = 0


class SqliteImageStore(ImageStore):
    """Blob id → bytes, read from the file; in memory only the cache of recently read bytes."""

    def __init__(self, store: Store, budget: int = 0) -> None:
        super().__init__(budget)
        self._store = store
        self._recent = RecentBlobs(SERVE_CACHE)
        # length() of a blob reads its record header, not its pages: cheap even for a large file.
        self._held = int(store.rows("SELECT coalesce(sum(length(data)), 0) FROM blobs")[0][0]) + int(
            store.rows(
                f"SELECT coalesce(sum({METADATA_WEIGHT} + length(coalesce(type, ''))"
                " + length(coalesce(description, ''))), 0) FROM images"
            )[0][0]
        )
        self._cursor = 0  # eviction walks images by id; every id up to here is evicted or shares a newer blob
        self._forgotten_through = store.meta().get("forgotten_through", 0)  # ids whose rows the budget took
        self._before = (self._held, self._cursor, self._forgotten_through)  # what a rollback restores
        store.on_begin.append(self._began)
        store.on_rollback.append(self._rolled_back)

    def _began(self) -> None:
        self._before = (self._held, self._cursor, self._forgotten_through)

    def _rolled_back(self) -> None:
        self._held, self._cursor, self._forgotten_through = self._before

    @property
    def held_bytes(self) -> int:
        """The bytes of image data the file holds (the budget counts the metadata rows besides)."""
        with self._store.lock:
            return int(self._store.rows("SELECT coalesce(sum(length(data)), 0) FROM blobs")[0][0])

    @property
    def held(self) -> int:
        """Image bytes and metadata rows: what the budget bounds."""
        return self._held

    @held.setter
    def held(self, value: int) -> None:
        self._held = value

    def share(self, budget: Budget) -> None:
        """Take the fake-wide limit as this file's own: a state file's images keep a budget of their own.

        The file evicts by what it holds, under its own lock; it does not join the budget a fake's
        in-memory stores share (docs/limits.md says so).
        """
        self.budget = budget.limit

    def limit_to(self, budget: int) -> None:
        with self._store.lock:
            self.budget = budget
            newest = self._store.rows("SELECT sha256 FROM images ORDER BY blob_id DESC LIMIT 1")
            evicted = self._evict_file(newest[0][0] if newest else None)
            self._store.commit()
            if evicted:
                self._store.reclaim()  # a smaller budget than the file was filled under: shrink it now

    def put(
        self, blob_id: int, data: bytes, type: str | None, description: str | None, info: ImageInfo | None = None
    ) -> StoredImage:
        info = info or ImageInfo.of(data)
        with self._store.lock:
            if self._store.write("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (info.sha256, data)):
                self._held += len(data)
            # Ids are fresh (IdSequence.take); a blob id stored twice would leave its first blob to the walk.
            self._store.write(
                "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?, ?)",
                (blob_id, info.sha256, info.size, info.format, type, description),
            )
            self._held += metadata_weight(type, description)
            self._cursor = min(self._cursor, blob_id - 1)
            self._evict_file(info.sha256)
        return StoredImage(blob_id, data, info, type, description)

    def _evict_file(self, keep: str | None) -> int:
        """Delete the oldest blobs' bytes until the rest fit the budget; `keep` (the newest) stays.

        Returns how many blobs went.
        """
        evicted = 0
        while self.budget and self._held > self.budget:
            found = self._store.rows(
                "SELECT i.blob_id, i.sha256, length(b.data) FROM images i JOIN blobs b ON b.sha256 = i.sha256"
                " WHERE i.blob_id > ? ORDER BY i.blob_id LIMIT 1",
                (self._cursor,),
            )
            if not found:
                break
            blob_id, sha256, size = found[0]
            newer = self._store.rows("SELECT 1 FROM images WHERE sha256 = ? AND blob_id > ? LIMIT 1", (sha256, blob_id))
            if not newer and sha256 == keep:
                break  # reached the image just saved: it stays, and the walk resumes before it
            self._cursor = blob_id
            if newer:
                continue  # saved again later: the blob goes when that newest save's turn comes
            self._store.write("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
            self._held -= size
            self._recent.discard(sha256)
            self._store.freed()
            evicted += 1
        while self.budget and self._held > self.budget:
            # No more bytes may go: the oldest metadata rows go, never the newest image's.
            oldest = self._store.rows("SELECT blob_id, sha256, type, description FROM images ORDER BY blob_id LIMIT 2")
            if len(oldest) < 2:
                break
            blob_id, sha256, type_, description = oldest[0]
            self._store.write("DELETE FROM images WHERE blob_id = ?", (blob_id,))
            self._held -= metadata_weight(type_, description)
            if not self._store.rows("SELECT 1 FROM images WHERE sha256 = ? LIMIT 1", (sha256,)):
                size = self._store.rows("SELECT length(data) FROM blobs WHERE sha256 = ?", (sha256,))
                if size:  # bytes no image names any more
                    self._store.write("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
                    self._held -= int(size[0][0])
                    self._recent.discard(sha256)
            self._forgotten_through = max(self._forgotten_through, blob_id)
            self._store.write(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('forgotten_through', ?)", (self._forgotten_through,)
            )
            self._store.freed()
            evicted += 1
        return evicted

    def entry(self, blob_id: int) -> StoredImage | None:
        with self._store.lock:
            rows = self._store.rows(
                "SELECT i.sha256, i.size, i.format, i.type, i.description, b.rowid FROM images i"
                " LEFT JOIN blobs b ON b.sha256 = i.sha256 WHERE i.blob_id = ?",
                (blob_id,),
            )
            if not rows:
                if 0 < blob_id <= self._forgotten_through:  # issued, its metadata gone with the budget
                    return StoredImage(blob_id, None, FORGOTTEN, None, None)
                return None
            sha256, size, fmt, type_, description, rowid = rows[0]
            data = None if rowid is None else self._load(blob_id, sha256, rowid)
        return StoredImage(blob_id, data, ImageInfo(size, sha256, fmt), type_, description)

    def _load(self, blob_id: int, sha256: str, rowid: int) -> bytes:
        data = self._recent.get(sha256)
        if data is None:
            data = bytes(self._store.rows("SELECT data FROM blobs WHERE rowid = ?", (rowid,))[0][0])
            if hashlib.sha256(data).hexdigest() != sha256:
                self._store.damaged(f"the bytes stored for blob id {blob_id} no longer match their SHA-256")
            self._recent.put(sha256, data)
        return data

    def evicted_ids(self) -> list[int]:
        return [row[0] for row in self._store.rows(f"SELECT blob_id FROM images i WHERE NOT {HELD} ORDER BY blob_id")]

    def __getitem__(self, blob_id: int) -> bytes:
        entry = self.entry(blob_id)
        if entry is None:
            known = ", ".join(str(i) for i in list(self)[:10]) or "none"
            raise KeyError(f"no image with blob id {blob_id} (stored ids: {known})")
        if entry.data is None:
            raise ImageEvicted(blob_id, self.budget)
        return entry.data

    def __iter__(self) -> Iterator[int]:
        return iter([row[0] for row in self._store.rows(f"SELECT blob_id FROM images i WHERE {HELD} ORDER BY blob_id")])

    def __len__(self) -> int:
        return int(self._store.rows(f"SELECT count(*) FROM images i WHERE {HELD}")[0][0])

    def clear(self) -> None:
        with self._store.lock:
            self._store.write("DELETE FROM images")
            self._store.write("DELETE FROM blobs")
            self._held, self._cursor, self._forgotten_through = 0, 0, 0
            self._recent.clear()
            self._store.freed()
            self._store.commit()


__all__ = ["SERVE_CACHE", "RecentBlobs", "SqliteImageStore"]
