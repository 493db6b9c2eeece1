"""Typed reading of TOML tables that collects every problem as ``file: key: message``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mockserver.core.vocabulary.errors import ContractError


class TableReader:
    """Typed access to one TOML table that reports problems as ``file: key: message``."""

    def __init__(self, source: Path, table: Mapping[str, Any], prefix: str) -> None:
        self.source = source
        self.table = table
        self.prefix = prefix
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, message: str) -> ContractError:
        return ContractError(self.source, self.key(name), message)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.seen.add(name)
        if name not in self.table:
            if default is ...:
                raise self.fail(name, "is required")
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML booleans are ints in Python; keep them apart.
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            wanted = " or ".join(k.__name__ for k in kinds)
            raise self.fail(name, f"must be {wanted} (got {type(value).__name__} {value!r})")
        return value

    def sub(self, name: str, default: Any = ...) -> TableReader:
        table = self.get(name, dict, default)
        return TableReader(self.source, table if table is not ... else {}, self.key(name))

    def finish(self) -> None:
        extras = sorted(set(self.table) - self.seen)
        if extras:
            raise ContractError.many([self.fail(extra, "is not a known key") for extra in extras])


class Problems:
    """Collects every problem in a file, so one `mockserver check` run names them all."""

    def __init__(self) -> None:
        self.errors: list[ContractError] = []

    def attempt(self, fn: Callable[..., Any], *args: Any, default: Any = None) -> Any:
        """Run one independent check, ``fn(*args)``; on a problem, note it and carry on with `default`."""
        try:
            return fn(*args)
        except ContractError as exc:
            self.errors.extend(exc.problems)
            return default
