"""Bind decoded body pairs to a contract's properties: typed values, violations, warnings."""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from mockserver.core.body.codecs import describe_xml_value
from mockserver.core.body.coercion import Bad, coerce, coerce_bytes, expected_of
from mockserver.core.vocabulary.contract import INT32_MAX, Contract, Property
from mockserver.core.vocabulary.errors import Violation, describe_json_value
from mockserver.core.vocabulary.images import ImageInfo, decode_problem, image_warning, new_image_info, sniff
from mockserver.core.vocabulary.printable import printable

# Of thousands of unknown (or repeated) properties the first LISTED are described, the rest only
# counted in one entry: neither the work nor the record grows with the body (errors.KEPT_PER_CALL).
LISTED = 5
_CASES = "property names are case-insensitive"


@dataclass(slots=True)
class Binding:
    """The result of binding one body: typed values, what was wrong, what was odd."""

    values: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    images: dict[str, ImageInfo] = field(default_factory=dict)


def bind(pairs: list[tuple[str, Any]], contract: Contract, family: str) -> Binding:
    """Check every pair against the contract and collect all problems at once."""
    return _bind_fast(pairs, contract, family) or _bind_general(pairs, contract, family)


# The usual body names each property once, by its canonical name, with a plain value that
# needs no coercion beyond base64; such a body binds without a problem, or with nothing wrong
# but base64 the decoder refuses (the most common mistake). `_bind_fast` handles only that case
# and gives up (None) on anything else, which `_bind_general` then works out in full: the two
# must agree on every body (tests/core/test_fast_paths.py compares them).
_STRING, _ENUM, _BYTES, _INT32, _BOOL = range(5)
_KINDS = {"string": _STRING, "enum": _ENUM, "bytes": _BYTES, "int32": _INT32, "bool": _BOOL}


@dataclass(frozen=True, slots=True)
class _Plan:
    contract: Contract
    by_name: dict[str, tuple[Property, int, dict[str, str]]]
    needed: tuple[str, ...]  # absent -> a violation or a warning: the general path says which
    images: tuple[Property, ...]


_PLANS: dict[int, _Plan] = {}


def _plan(contract: Contract) -> _Plan:
    plan = _PLANS.get(id(contract))
    if plan is None or plan.contract is not contract:
        by_name = {}
        for p in contract.properties:
            exact: dict[str, str] = {}
            if p.enum is not None:
                # Names the general path would read back unchanged (strip, then case-insensitive lookup),
                # to the contract's own string: records then share it instead of each keeping a copy.
                exact = {k: k for k in p.enum.members if k == k.strip() and p.enum.by_lower.get(k.lower()) == k}
            by_name[p.name] = (p, _KINDS.get(p.type, -1), exact)
        plan = _Plan(
            contract,
            by_name,
            tuple(p.name for p in contract.properties if p.required or p.warn_if_missing),
            tuple(p for p in contract.properties if p.type == "bytes"),
        )
        if len(_PLANS) > 256:  # contracts are few and long-lived; this only guards against churn
            _PLANS.clear()
        _PLANS[id(contract)] = plan
    return plan


def _bind_fast(pairs: list[tuple[str, Any]], contract: Contract, family: str) -> Binding | None:
    plan = _plan(contract)
    by_name = plan.by_name
    values: dict[str, Any] = {}
    violations: list[Violation] = []
    invalid: set[str] = set()
    for name, raw in pairs:
        entry = by_name.get(name)
        if entry is None or name in values or name in invalid:
            return None
        prop, kind, exact = entry
        kind_of_raw = type(raw)
        if kind_of_raw is str:
            if kind == _STRING:
                # A .NET string holds a lone surrogate; UTF-8 does not: kept escaped (printable.py).
                values[name] = raw if raw.isascii() and "\\" not in raw else printable(raw)
            elif kind == _ENUM:
                member = exact.get(raw)
                if member is None:
                    return None
                values[name] = member
            elif kind == _BYTES:
                try:
                    if len(raw) % 4 or raw.endswith("==="):  # what _strict_b64 refuses, without raising
                        raise ValueError(raw)
                    values[name] = binascii.a2b_base64(raw, strict_mode=True)
                except (binascii.Error, ValueError):
                    try:  # .NET's reading (whitespace anywhere), and the general path's diagnosis
                        values[name] = coerce_bytes(prop, raw, family, None)
                    except Bad as bad:
                        violations.append(Violation(f"body.{name}", bad.expected, bad.got))
                        invalid.add(name)
            else:
                return None
        elif (kind == _INT32 and kind_of_raw is int and -(2**31) <= raw <= INT32_MAX) or (
            kind == _BOOL and kind_of_raw is bool
        ):
            values[name] = raw
        elif kind == _ENUM and kind_of_raw is int:
            assert prop.enum is not None
            member = prop.enum.by_number.get(raw)
            if member is None:
                return None
            values[name] = member
        else:
            return None
    for name in plan.needed:
        if name not in values and name not in invalid:
            return None
    images: dict[str, ImageInfo] = {}
    for prop in plan.images:
        data = values.get(prop.name)
        if data is None:
            continue
        info = new_image_info(len(data), sha256(data).hexdigest(), sniff(data))  # ImageInfo.of, without its call
        if (prop.warn_if_empty and not data) or (
            prop.sniff_image and (info.format is None or decode_problem(data, info) is not None)
        ):
            return None
        images[prop.name] = info
    return Binding(values, violations, [], images)


def _bind_general(pairs: list[tuple[str, Any]], contract: Contract, family: str) -> Binding:
    out = Binding()
    seen: dict[str, str] = {}
    invalid: set[str] = set()
    describe = describe_xml_value if family == "xml" else describe_json_value
    by_lower = contract.by_lower
    known = ", ".join(p.name for p in contract.properties)
    unknown = repeated = 0  # how many: only the first LISTED of each are described
    for name, raw in pairs:
        prop = by_lower.get(name.lower())
        if prop is None:
            unknown += 1
            if unknown <= LISTED:
                where = f"body.{printable(name)}"
                out.warnings.append(Violation(where, f"one of the known properties ({known})", "an unknown property"))
            continue
        if prop.name in seen:
            repeated += 1
            if repeated <= LISTED:
                got = f"'{seen[prop.name]}' and '{name}'"
                out.violations.append(Violation(f"body.{prop.name}", f"given once ({_CASES})", got))
            invalid.add(prop.name)
            continue
        seen[prop.name] = name
        if raw is None:
            continue  # null / xsi:nil: treated as absent below
        if prop.type == "string" and isinstance(raw, str):
            out.values[prop.name] = printable(raw)  # the usual string: no need for the full coercion
            continue
        try:
            value = coerce(prop, raw, family, describe, out.warnings)
        except Bad as bad:
            out.violations.append(Violation(f"body.{prop.name}", bad.expected, bad.got))
            invalid.add(prop.name)
            continue
        out.values[prop.name] = value
    if unknown > LISTED:
        out.warnings.append(Violation("body", f"only known properties ({known})", f"{unknown - LISTED} more unknown"))
    if repeated > LISTED:
        out.violations.append(Violation("body", f"each property once ({_CASES})", f"{repeated - LISTED} more repeats"))
    for prop in contract.properties:
        if prop.name in invalid:
            continue
        where = f"body.{prop.name}"
        if prop.name not in out.values:
            if prop.required:
                out.violations.append(Violation(where, f"{expected_of(prop)} (required)", "nothing"))
            elif prop.warn_if_missing:
                out.warnings.append(
                    Violation(where, f"{expected_of(prop)} (the server stores 0 when absent)", "nothing")
                )
            continue
        value = out.values[prop.name]
        if prop.type == "bytes":
            info = ImageInfo.of(value)
            out.images[prop.name] = info
            if prop.warn_if_empty and not value:
                out.warnings.append(Violation(where, "a non-empty image", "0 bytes"))
            elif prop.sniff_image and (warning := image_warning(where, value, info)) is not None:
                out.warnings.append(warning)
    return out
