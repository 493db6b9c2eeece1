"""Load contract files into `Contract`s, reporting every problem with file and key.

Every problem found while loading names the file and the key
(``contracts/SaveImageStream.toml: body.Image.type: ...``), all of them at once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mockserver.core.answering.behaviours import BEHAVIOURS
from mockserver.core.vocabulary.contract import (
    DEFAULT_CONTRACTS_DIR,
    INT32_MAX,
    KNOWN_MEDIA_TYPES,
    METHODS,
    PROPERTY_TYPES,
    RESULT_TYPES,
    Contract,
    ContractSet,
    EnumType,
    Example,
    Param,
    Property,
)
from mockserver.core.vocabulary.errors import ContractError

# ---- reading TOML tables: typed access, every problem collected as ``file: key: message`` ----


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


def _media_types(reader: TableReader, name: str) -> tuple[str, ...]:
    values = reader.get(name, list)
    if not values:
        raise reader.fail(name, "must list at least one media type")
    out: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or value.lower() not in KNOWN_MEDIA_TYPES:
            raise reader.fail(
                f"{name}[{i}]",
                f"must be one of {', '.join(sorted(KNOWN_MEDIA_TYPES))} (got {value!r})",
            )
        if value.lower() in out:
            raise reader.fail(f"{name}[{i}]", f"repeats {value!r}")
        out.append(value.lower())
    return tuple(out)


def _params(reader: TableReader, name: str, found: Problems) -> tuple[Param, ...]:
    items = reader.get(name, list, [])

    def one(i: int, item: Any) -> Param:
        if not isinstance(item, dict):
            raise reader.fail(f"{name}[{i}]", "must be a table")
        r = TableReader(reader.source, item, reader.key(f"{name}[{i}]"))
        param = Param(
            name=r.get("name", str),
            type=r.get("type", str, "string"),
            description=r.get("description", str, ""),
        )
        r.finish()
        return param

    return tuple(p for i, item in enumerate(items) if (p := found.attempt(one, i, item)) is not None)


def _enums(reader: TableReader, found: Problems) -> dict[str, EnumType]:
    enums_reader = reader.sub("enums", {})
    out: dict[str, EnumType] = {}
    for enum_name in list(enums_reader.table):
        enum = found.attempt(_enum, enums_reader, enum_name)
        if enum is not None:
            out[enum_name] = enum
    return out


def _enum(enums_reader: TableReader, enum_name: str) -> EnumType:
    members_reader = enums_reader.sub(enum_name)
    members: dict[str, int] = {}
    for member in list(members_reader.table):
        number = members_reader.get(member, int)
        if not (-(2**31) <= number <= INT32_MAX):
            raise members_reader.fail(member, f"must be an int32 (got {number})")
        if number in members.values():
            raise members_reader.fail(member, f"repeats the number {number}")
        if member.lower() in {m.lower() for m in members}:
            raise members_reader.fail(member, "repeats a name (names are case-insensitive)")
        members[member] = number
    if not members:
        raise enums_reader.fail(enum_name, "must have at least one member")
    return EnumType.build(enum_name, members)


def _properties(reader: TableReader, enums: Mapping[str, EnumType], found: Problems) -> tuple[Property, ...]:
    body = reader.sub("body", {})
    tables = reader.table.get("enums")
    declared = set(tables) if isinstance(tables, dict) else set()
    out: list[Property] = []
    lowered: set[str] = set()
    for prop_name in list(body.table):
        prop = found.attempt(_property, body, prop_name, enums, lowered, declared)
        if prop is not None:
            out.append(prop)
    return tuple(out)


def _property(
    body: TableReader, prop_name: str, enums: Mapping[str, EnumType], lowered: set[str], declared: set[str]
) -> Property | None:
    r = body.sub(prop_name)
    ptype = r.get("type", str)
    if ptype not in PROPERTY_TYPES:
        raise r.fail("type", f"must be one of {', '.join(sorted(PROPERTY_TYPES))} (got {ptype!r})")
    enum = None
    if ptype == "enum":
        enum_name = r.get("enum", str)
        if enum_name not in enums:
            if enum_name in declared:  # the enum itself is broken and already reported
                return None
            raise r.fail("enum", f"names an enum not defined under [enums] (got {enum_name!r})")
        enum = enums[enum_name]
    if prop_name.lower() in lowered:
        raise body.fail(prop_name, "repeats a property name (names are case-insensitive)")
    lowered.add(prop_name.lower())
    must_exist = r.get("must_exist", str, None)
    if must_exist is not None and must_exist not in {"blob"}:
        raise r.fail("must_exist", f"must be 'blob' (got {must_exist!r})")
    prop = Property(
        name=prop_name,
        type=ptype,
        required=r.get("required", bool, False),
        warn_if_missing=r.get("warn_if_missing", bool, False),
        warn_if_empty=r.get("warn_if_empty", bool, False),
        sniff_image=r.get("sniff_image", bool, False),
        must_exist=must_exist,
        enum=enum,
        description=r.get("description", str, ""),
    )
    r.finish()
    return prop


def _examples(reader: TableReader, found: Problems) -> tuple[Example, ...]:
    items = reader.get("examples", list, [])

    def one(i: int, item: Any) -> Example:
        if not isinstance(item, dict):
            raise reader.fail(f"examples[{i}]", "must be a table")
        r = TableReader(reader.source, item, f"examples[{i}]")
        status = r.get("status", int)
        if not 100 <= status <= 599:
            raise r.fail("status", f"must be an HTTP status (got {status})")
        example = Example(name=r.get("name", str), body=r.get("body", dict), status=status)
        r.finish()
        return example

    return tuple(e for i, item in enumerate(items) if (e := found.attempt(one, i, item)) is not None)


def parse_contract(source: Path, data: Mapping[str, Any]) -> Contract:
    """Check one parsed contract document and build its `Contract`; report every problem at once."""
    found = Problems()
    top = TableReader(source, data, "")
    empty = TableReader(source, {}, "")
    op = found.attempt(top.sub, "operation", default=empty)
    req = found.attempt(top.sub, "request", default=empty)
    resp = found.attempt(top.sub, "response", default=empty)
    enums = found.attempt(_enums, top, found, default={})

    def checked(
        reader: TableReader, name: str, kind: type, allowed: Callable[[Any], str | None], default: Any = ...
    ) -> Any:
        def run() -> Any:
            value = reader.get(name, kind, default)
            problem = allowed(value)
            if problem:
                raise reader.fail(name, problem)
            return value

        return found.attempt(run) if reader is not empty else None

    def any_value(value: Any) -> str | None:
        return None

    method = checked(
        op,
        "method",
        str,
        lambda v: None if v.upper() in METHODS else f"must be POST, PUT, PATCH or DELETE (got {v!r})",
    )
    path = checked(
        op, "path", str, lambda v: None if v.lower().startswith("/api/v1/") else f"must start with /api/v1/ (got {v!r})"
    )
    behaviour = checked(
        op,
        "behaviour",
        str,
        lambda v: None if v in BEHAVIOURS else f"must be one of {', '.join(sorted(BEHAVIOURS))} (got {v!r})",
    )
    result = checked(
        resp,
        "result",
        str,
        lambda v: None if v in RESULT_TYPES else f"must be one of {', '.join(sorted(RESULT_TYPES))} (got {v!r})",
    )
    status = checked(resp, "status", int, lambda v: None if 200 <= v <= 299 else f"must be a 2xx status (got {v})")
    values = {
        "name": checked(op, "name", str, any_value),
        "agent": checked(op, "agent", str, any_value),
        "operation_id": checked(op, "operation_id", str, any_value),
        "summary": checked(op, "summary", str, any_value, ""),
        "description": checked(op, "description", str, any_value, ""),
        "slow_threshold_ms": checked(op, "slow_threshold_ms", int, any_value, 3000),
        "request_media_types": found.attempt(_media_types, req, "media_types") if req is not empty else None,
        "response_media_types": found.attempt(_media_types, resp, "media_types") if resp is not empty else None,
        "query": found.attempt(_params, top, "query", found, default=()),
        "headers": found.attempt(_params, top, "headers", found, default=()),
        "examples": found.attempt(_examples, top, found, default=()),
    }
    properties = found.attempt(_properties, top, enums, found, default=())
    for r in (op, req, resp, top):
        if r is not empty:
            found.attempt(r.finish)
    if found.errors:
        raise ContractError.many(found.errors)
    return Contract(
        source=source,
        method=method.upper(),
        path=path.rstrip("/"),
        behaviour=behaviour,
        response_status=status,
        result=result,
        properties=properties,
        enums=MappingProxyType(enums),
        by_lower=MappingProxyType({p.name.lower(): p for p in properties}),
        **values,
    )


def load_contract(path: Path) -> Contract:
    """Read and check one contract file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractError(path, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ContractError(path, "", f"is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(path, "", f"is not valid TOML ({exc})") from None
    return parse_contract(path, data)


def contract_files(path: Path) -> list[Path]:
    """Return the contract files at `path`: the file itself, or every ``*.toml`` inside."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.toml") if not p.name.startswith("."))
        if not files:
            raise ContractError(path, "", "holds no *.toml contract files")
        return files
    if not path.exists():
        raise ContractError(path, "", "does not exist")
    return [path]


def load_contracts(path: Path | None = None) -> ContractSet:
    """Load every contract at `path` (default: the packaged ``contracts/``)."""
    return ContractSet.of(load_contract(p) for p in contract_files(path or DEFAULT_CONTRACTS_DIR))
