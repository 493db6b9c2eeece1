"""The image store of a state file: bytes and metadata in the file, within the image budget.

Blobs are content-addressed (`blobs` by SHA-256), so the budget counts each distinct picture
once, and eviction goes by a blob's newest save: the blob whose latest image is the oldest goes
first, and its images keep their metadata row. Each image's metadata row counts against the
budget too (`metadata_weight`: its description and type included): once no more bytes can go,
the oldest rows go, so the file stops growing under steady load (the same picture saved a
million times is one blob but a million rows). An id whose row went is `forgotten_through`:
still known to be issued (410 Gone), never "unknown". Reading checks the bytes against their SHA-256,
so data damaged inside the file is reported as such instead of being served. What was read is
kept in a small cache (`SERVE_CACHE` bytes, one for all of a fake's files): fifty clients
fetching one image share one copy.
"""

from __future__ import annotations

import hashlib
import threading
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
    """The bytes of recently read blobs by SHA-256, at most `limit` bytes.

    One is shared by a fake's state files (the root's and every tenant's): content-addressed, a
    picture two tenants stored is one entry, and a file only asks for a blob its own rows name.
    """

    def __init__(self, limit: int = SERVE_CACHE) -> None:
        self.limit = limit
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> bytes | None:
        with self._lock:
            data = self._items.get(sha256)
            if data is not None:
                self._items.move_to_end(sha256)
            return data

    def put(self, sha256: str, data: bytes) -> None:
        with self._lock:
            if len(data) > self.limit or sha256 in self._items:
                return
            self._items[sha256] = data
            self._size += len(data)
            while self._size > self.limit:
                self._size -= len(self._items.popitem(last=False)[1])

    def discard(self, sha256: str) -> None:
        with self._lock:
            data = self._items.pop(sha256, None)
            if data is not None:
                self._size -= len(data)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


class SqliteImageStore(ImageStore):
    """Blob id → bytes, read from the file; in memory only the cache of recently read bytes.

    The file's images join the fake's one image budget (`share`) like an in-memory store's: a
    save here may make another tenant's file give up its oldest (`shed`, through the file's
    `give_up`), and another tenant's save may make this one do so.
    """

    def __init__(self, store: Store, cache: RecentBlobs | None = None) -> None:
        super().__init__(0)
        self._store = store
        self._recent = cache if cache is not None else RecentBlobs()
        # length() of a blob reads its record header, not its pages: cheap even for a large file.
        held = int(store.rows("SELECT coalesce(sum(length(data)), 0) FROM blobs")[0][0]) + int(
            store.rows(
                f"SELECT coalesce(sum({METADATA_WEIGHT} + length(coalesce(type, ''))"
                " + length(coalesce(description, ''))), 0) FROM images"
            )[0][0]
        )
        with self.shared.lock:
            self.shared.charge(self, held)
        self._cursor = 0  # eviction walks images by id; every id up to here is evicted or shares a newer blob
        self._forgotten_through = store.meta().get("forgotten_through", 0)  # ids whose rows the budget took
        self._before = (self.held, self._cursor, self._forgotten_through)  # what a rollback restores
        store.on_begin.append(self._began)
        store.on_rollback.append(self._rolled_back)

    def _began(self) -> None:
        self._before = (self.held, self._cursor, self._forgotten_through)

    def _rolled_back(self) -> None:
        held, self._cursor, self._forgotten_through = self._before
        with self.shared.lock:
            self.shared.charge(self, held - self.held)

    def _charge(self, size: int) -> None:
        with self.shared.lock:
            self.shared.charge(self, size)

    @property
    def held_bytes(self) -> int:
        """The bytes of image data the file holds (the budget counts the metadata rows besides)."""
        with self._store.lock:
            return int(self._store.rows("SELECT coalesce(sum(length(data)), 0) FROM blobs")[0][0])

    def share(self, budget: Budget) -> None:
        """Count this file's images against `budget` from now on (a fake's image stores share one)."""
        with self._store.lock:
            previous, self.shared = self.shared, budget
            budget.adopt(self, previous)
            self._store.commit()

    def limit_to(self, budget: int) -> None:
        with self._store.lock:
            shed = self.shared.shed_count
            self.shared.set_limit(budget)
            self._store.commit()
            if self.shared.shed_count > shed:
                self._store.reclaim()  # a smaller budget than the file was filled under: shrink it now

    def put(
        self, blob_id: int, data: bytes, type: str | None, description: str | None, info: ImageInfo | None = None
    ) -> StoredImage:
        info = info or ImageInfo.of(data)
        with self._store.lock:
            size = metadata_weight(type, description)
            if self._store.write("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (info.sha256, data)):
                size += len(data)
            # Ids are fresh (IdSequence.take); a blob id stored twice would leave its first blob to the walk.
            self._store.write(
                "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?, ?)",
                (blob_id, info.sha256, info.size, info.format, type, description),
            )
            self._cursor = min(self._cursor, blob_id - 1)
            shared = self.shared
            with shared.lock:
                shared.newest = self
                shared.charge(self, size)
                if shared.limit and shared.held > shared.limit:
                    shared.settle()
        return StoredImage(blob_id, data, info, type, description)

    def shed(self) -> bool:
        """Give up the oldest blob's bytes, else the oldest metadata row (the budget settling).

        The newest image stays when this file added last. Another thread using the file: nothing now.
        """
        return self._store.give_up(self._shed_one)

    def _shed_one(self) -> bool:
        keep = None  # the newest image's picture stays when this file added last
        if self.shared.newest is self:
            newest = self._store.rows("SELECT sha256 FROM images ORDER BY blob_id DESC LIMIT 1")
            if not newest:
                return False
            keep = newest[0][0]
        while True:
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
            if newer:
                self._cursor = blob_id
                continue  # saved again later: the blob goes when that newest save's turn comes
            self._store.write("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
            self._cursor = blob_id  # after the write began the transaction: a rollback walks here again
            self._charge(-size)
            self._recent.discard(sha256)
            self._store.freed()
            return True
        # No more bytes may go: the oldest metadata row goes, never the newest image's.
        oldest = self._store.rows("SELECT blob_id, sha256, type, description FROM images ORDER BY blob_id LIMIT 2")
        if not oldest or (keep is not None and len(oldest) < 2):
            return False
        blob_id, sha256, type_, description = oldest[0]
        self._store.write("DELETE FROM images WHERE blob_id = ?", (blob_id,))
        size = metadata_weight(type_, description)
        if not self._store.rows("SELECT 1 FROM images WHERE sha256 = ? LIMIT 1", (sha256,)):
            held = self._store.rows("SELECT length(data) FROM blobs WHERE sha256 = ?", (sha256,))
            if held:  # bytes no image names any more
                self._store.write("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
                size += int(held[0][0])
                self._recent.discard(sha256)
        self._charge(-size)
        self._forgotten_through = max(self._forgotten_through, blob_id)
        self._store.write(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('forgotten_through', ?)", (self._forgotten_through,)
        )
        self._store.freed()
        return True

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
            self._charge(-self.held)
            self._cursor, self._forgotten_through = 0, 0
            self._recent.clear()
            self._store.freed()
            self._store.commit()


__all__ = ["SERVE_CACHE", "RecentBlobs", "SqliteImageStore"]
