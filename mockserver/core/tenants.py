"""Tenants isolated in one process: each URL prefix (``/Cust12345``) gets a fake state of its own.

SuperOffice Online tells tenants apart by the first segment of the path. With
``tenants = "isolated"`` each such prefix gets its own ids, journal, images, attachments, faults
and coverage; requests without a prefix belong to the default tenant (the fake itself).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from mockserver.core.vocabulary.errors import ApiError, Violation, preview

T = TypeVar("T")
# A tenant name is one path segment; it also names the tenant's state file, so it stays file-safe.
TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def tenant_of(path: str) -> str:
    """The tenant a request path names: the segments before ``/api/`` or ``/_`` ('' for none)."""
    lowered = path.lower()
    end = lowered.find("/api/")
    if end < 0:
        end = lowered.find("/_")
    return path[:end].strip("/") if end > 0 else ""


def check_tenant_name(name: str) -> None:
    """A 400 for a name that is not one path segment of letters, digits, '.', '_' or '-'."""
    if not TENANT_NAME.fullmatch(name):
        raise ApiError(
            400,
            [
                Violation(
                    "path", "a tenant prefix of letters, digits, '.', '_' or '-' (as /Cust12345)", preview(name, 40)
                )
            ],
            message=f"{preview(name, 40)} is not a tenant prefix this fake can isolate.",
        )


class Tenants(Generic[T]):
    """Tenant name → its fake, made on first use, at most `limit` of them."""

    def __init__(self, make: Callable[[str], T], limit: int) -> None:
        self._make = make
        self._limit = limit
        self._by_key: dict[str, tuple[str, T]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> T:
        """The tenant's fake; a 400 for a name that is not one path segment or past the limit."""
        key = name.lower()
        found = self._by_key.get(key)
        if found is not None:
            return found[1]
        check_tenant_name(name)
        with self._lock:
            found = self._by_key.get(key)
            if found is not None:
                return found[1]
            if len(self._by_key) >= self._limit:
                raise ApiError(
                    400,
                    [Violation("path", f"one of the {self._limit} tenants in use (max_tenants)", preview(name, 40))],
                    message=f"This fake already holds {self._limit} tenants (max_tenants); {preview(name, 40)} "
                    "would be one more. A typo in the URL prefix? Otherwise raise --max-tenants.",
                )
            tenant = self._make(name)
            self._by_key[key] = (name, tenant)
            return tenant

    def find(self, name: str) -> T | None:
        """The tenant's fake if it exists already (never makes one)."""
        found = self._by_key.get(name.lower())
        return found[1] if found is not None else None

    def items(self) -> Iterator[tuple[str, T]]:
        """(name, fake) for every tenant, in the order they appeared."""
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)
