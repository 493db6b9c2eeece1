"""An agent call's contract as frozen dataclasses: properties, enums, media types, examples.

A contract is data: one TOML file per agent call, read by `loader`. `ContractSet` finds the
contract for a request path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mockserver.core.vocabulary.errors import ApiError, ContractError, Violation, preview

PROPERTY_TYPES = frozenset({"enum", "bytes", "string", "int32", "bool"})
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RESULT_TYPES = frozenset({"int32", "none", "bytes"})
KNOWN_MEDIA_TYPES = frozenset(
    {
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
        "application/x-www-form-urlencoded",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/octet-stream",
    }
)
INT32_MAX = 2**31 - 1
# Installed wheels carry the contracts inside the package; a source checkout has them on top.
# The contracts ship inside the package (the top-level contracts/ of a checkout is a link to them).
DEFAULT_CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


@dataclass(frozen=True, slots=True)
class EnumType:
    """A named enum: canonical member names and their numbers."""

    name: str
    members: Mapping[str, int]
    by_lower: Mapping[str, str] = field(repr=False)
    by_number: Mapping[int, str] = field(repr=False)
    # The names a client's string is read back to unchanged (stripped, then case-insensitively):
    # a body sending one of these exactly binds to the contract's own string, shared by every record.
    canonical: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        canonical = {k: k for k in self.members if k == k.strip() and self.by_lower.get(k.lower()) == k}
        object.__setattr__(self, "canonical", MappingProxyType(canonical))

    @classmethod
    def build(cls, name: str, members: Mapping[str, int]) -> EnumType:
        return cls(
            name=name,
            members=MappingProxyType(dict(members)),
            by_lower=MappingProxyType({k.lower(): k for k in members}),
            by_number=MappingProxyType({v: k for k, v in members.items()}),
        )

    def describe(self) -> str:
        numbers = sorted(self.by_number)
        span = f"{numbers[0]}-{numbers[-1]}" if numbers else "none"
        return f"a {self.name} name or number ({span})"


@dataclass(frozen=True, slots=True)
class Property:
    """One body property of a request."""

    name: str
    type: str
    required: bool = False
    warn_if_missing: bool = False
    warn_if_empty: bool = False
    sniff_image: bool = False
    must_exist: str | None = None
    enum: EnumType | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Param:
    """A documented query parameter or header."""

    name: str
    type: str = "string"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Example:
    """A request body with the status the contract promises for it."""

    name: str
    body: Mapping[str, Any]
    status: int


@dataclass(frozen=True, slots=True)
class Contract:
    """Everything the fake knows about one agent call."""

    source: Path
    name: str
    agent: str
    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    behaviour: str
    slow_threshold_ms: int
    request_media_types: tuple[str, ...]
    response_media_types: tuple[str, ...]
    response_status: int
    result: str
    query: tuple[Param, ...]
    headers: tuple[Param, ...]
    properties: tuple[Property, ...]
    enums: Mapping[str, EnumType]
    examples: tuple[Example, ...]
    by_lower: Mapping[str, Property] = field(repr=False)
    by_name: Mapping[str, Property] = field(init=False, repr=False, compare=False)  # by canonical name

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", MappingProxyType({p.name: p for p in self.properties}))

    def property(self, name: str) -> Property | None:
        """Return the property bound by `name`, compared case-insensitively."""
        return self.by_lower.get(name.lower())


@dataclass(frozen=True, slots=True)
class ContractSet:
    """All loaded contracts, looked up by method-independent path."""

    contracts: tuple[Contract, ...]
    by_path: Mapping[str, Contract] = field(repr=False)

    @classmethod
    def of(cls, contracts: Iterable[Contract]) -> ContractSet:
        items = tuple(contracts)
        by_path: dict[str, Contract] = {}
        for c in items:
            key = c.path.lower()
            if key in by_path:
                raise ContractError(c.source, "operation.path", f"repeats the path of {by_path[key].source.name}")
            by_path[key] = c
        return cls(items, MappingProxyType(by_path))

    def __iter__(self) -> Iterator[Contract]:
        return iter(self.contracts)

    def __len__(self) -> int:
        return len(self.contracts)

    def named(self, name: str) -> Contract:
        for c in self.contracts:
            if c.name.lower() == name.lower():
                return c
        raise KeyError(name)

    def operation(self, path: str | None) -> str | None:
        """Turn an agent path (any prefix, any case) or an operation name into the operation's name."""
        if path is None:
            return None
        contract, _prefix = self.match(path if path.startswith("/") else "/" + path)
        if contract is not None:
            return contract.name
        by_name = {c.name.lower(): c.name for c in self.contracts}
        if path.lower() in by_name:
            return by_name[path.lower()]
        known = ", ".join(c.name for c in self.contracts)
        raise ApiError(400, [Violation("fault.path", f"an agent path or operation name ({known})", preview(path, 60))])

    def match(self, path: str) -> tuple[Contract | None, str]:
        """Find the contract for a request path; return it with the tenant prefix.

        Matching is case-insensitive, tolerates a trailing slash, and accepts any prefix
        before ``/api/`` (``/Cust12345``, ``/SuperOffice``).
        """
        lowered = path.lower().rstrip("/")
        idx = lowered.find("/api/")
        if idx < 0:
            return None, ""
        return self.by_path.get(lowered[idx:]), path[:idx]
