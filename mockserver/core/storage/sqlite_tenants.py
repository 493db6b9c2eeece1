"""The state files of isolated tenants: made by the fake, listed in the root file, a bounded number open.

With ``--tenants isolated --state app.sqlite`` each tenant's state is a file of its own in the
directory ``app.tenants/`` beside the root file, which the fake makes. The root file's ``tenants``
table lists every tenant file the fake created, and only those are ever opened, reset or written:
a file that merely looks like one (a backup copy ``app.Cust1.sqlite``, a file put in the
directory by hand) is never adopted. Should a file the list does not name stand where a new
tenant's file would go, that tenant is refused (a 503 naming the file) and the file left alone.

Each open tenant file holds two file descriptors (the database and its WAL). At most
`MAX_OPEN_TENANT_FILES` are open at once: past it the least recently used idle tenant's file is
closed, and opened again (and checked again) at that tenant's next call. A tenant whose file
cannot be opened (no file descriptor left, the file gone or replaced) is answered `503`
(`StateFileUnavailableException`), never a 500. Every tenant file shares the root file's cache of
recently read blobs, and its images, links and journal count against the fake's one budget each.
"""

from __future__ import annotations

from pathlib import Path

from mockserver.core.storage._sqlite_images import RecentBlobs
from mockserver.core.storage._store import Store
from mockserver.core.storage.errors import StateUnavailable
from mockserver.core.storage.open_files import OpenFiles
from mockserver.core.storage.sqlite import SqliteStorage

MAX_OPEN_TENANT_FILES = 64  # ×2 file descriptors; the root file's two come on top


def tenant_directory(root: Path) -> Path:
    """Where the tenant files of the state file `root` live: ``app.sqlite`` → ``app.tenants/``."""
    return root.with_name(f"{root.stem}.tenants")


class TenantFiles:
    """The tenant files the root state file lists; `storage(name)` opens one, making and listing it if new."""

    def __init__(self, root: Store, limit: int | None = None, cache: RecentBlobs | None = None) -> None:
        self.root = root
        self.directory = tenant_directory(root.path)
        self.pool = OpenFiles(MAX_OPEN_TENANT_FILES if limit is None else limit)
        self.cache = cache if cache is not None else RecentBlobs()  # recently read blobs, for every tenant file

    def names(self) -> list[str]:
        """Every tenant the root file lists, in the order they were made."""
        return [row[0] for row in self.root.rows("SELECT name FROM tenants ORDER BY rowid")]

    def storage(self, name: str) -> SqliteStorage:
        """The storage of tenant `name`: its listed file, or a new file listed before it is made."""
        with self.root.lock:
            listed = self.root.rows("SELECT file FROM tenants WHERE name = ? COLLATE NOCASE", (name,))
            if listed:
                return SqliteStorage(self.directory / listed[0][0], self.pool, self.cache)
            path = self.directory / f"{name}.sqlite"
            if path.exists() or path.is_symlink():
                raise StateUnavailable(
                    path,
                    f"a file the fake did not create is where tenant {name}'s state file would go (the tenant "
                    f"files of {self.root.path} are listed in it, and this one is not); it is left as it is: "
                    "move it away",
                )
            try:
                self.directory.mkdir(exist_ok=True)
            except OSError as exc:
                raise StateUnavailable(path, f"cannot make the directory {self.directory}: {exc.strerror}") from None
            # Listed first, made second: a file the list names was made by the fake (or is made now).
            self.root.write("INSERT INTO tenants (name, file) VALUES (?, ?)", (name, path.name))
            self.root.commit()
            return SqliteStorage(path, self.pool, self.cache)


__all__ = ["MAX_OPEN_TENANT_FILES", "TenantFiles", "tenant_directory"]
