"""Bind decoded body pairs to a contract's properties: typed values, violations, warnings."""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.core.body._coercion import Bad, coerce, coerce_bytes, expected_of
from mockserver.core.body.codecs import describe_xml_value
from mockserver.core.vocabulary._printable import printable
from mockserver.core.vocabulary.contract import INT32_MAX, Contract, Property
from mockserver.core.vocabulary.errors import Violation, describe_json_value
from mockserver.core.vocabulary.images import ImageInfo, decode_problem, image_warning

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

    def summary(self) -> dict[str, Any]:
        """What a call record keeps of the bound body: images as `ImageInfo`, never bytes."""
        images = self.images
        return {
            name: images[name] if isinstance(value, bytes) and name in images else value
            for name, value in self.values.items()
        }


def bind(pairs: list[tuple[str, Any]], contract: Contract, family: str) -> Binding:
    """Check every pair against the contract and collect all problems at once."""
    return _bind_fast(pairs, contract, family) or _bind_general(pairs, contract, family)


# The usual body names each property once, by its canonical name, with a plain value that
# needs no coercion beyond base64; such a body binds without a problem, or with nothing wrong
# but base64 the decoder refuses (the most common mistake). `_bind_fast` handles only that case
# and gives up (None) on anything else, which `_bind_general` then works out in full: the two
# must agree on every body (tests/core/test_fast_paths.py compares them). Measured worth it in
# benchmarks/RESULTS.md ("The binder's fast path").


def _bind_fast(pairs: list[tuple[str, Any]], contract: Contract, family: str) -> Binding | None:
    values: dict[str, Any] = {}
    violations: list[Violation] = []
    invalid: set[str] = set()
    for name, raw in pairs:
        prop = contract.by_name.get(name)
        if prop is None or name in values or name in invalid:
            return None
        value = _plain_value(prop, raw)
        if value is _NOT_PLAIN:
            return None
        if value is _BAD_BASE64:
            try:  # .NET's reading (whitespace anywhere), and the general path's diagnosis
                value = coerce_bytes(prop, raw, family, None)
            except Bad as bad:
                violations.append(Violation(f"body.{name}", bad.expected, bad.got))
                invalid.add(name)
                continue
        values[name] = value
    for prop in contract.properties:
        if (prop.required or prop.warn_if_missing) and prop.name not in values and prop.name not in invalid:
            return None  # absent: a violation or a warning, which the general path words
    images: dict[str, ImageInfo] = {}
    for prop in contract.properties:
        data = values.get(prop.name) if prop.type == "bytes" else None
        if data is None:
            continue
        info = ImageInfo.of(data)
        if (prop.warn_if_empty and not data) or (
            prop.sniff_image and (info.format is None or decode_problem(data, info) is not None)
        ):
            return None  # a warning: the general path words it
        images[prop.name] = info
    return Binding(values, violations, [], images)


_NOT_PLAIN = object()  # the value needs the general path
_BAD_BASE64 = object()  # a base64 string the strict decoder refuses


def _plain_value(prop: Property, raw: Any) -> Any:
    """`raw` read as `prop` when it is the plain value the usual body sends; else `_NOT_PLAIN` (or `_BAD_BASE64`)."""
    kind = prop.type
    if type(raw) is str:
        if kind == "string":
            # A .NET string holds a lone surrogate; UTF-8 does not: kept escaped (_printable.py).
            return raw if raw.isascii() and "\\" not in raw else printable(raw)
        if kind == "enum":
            assert prop.enum is not None
            return prop.enum.canonical.get(raw, _NOT_PLAIN)
        if kind == "bytes":
            if len(raw) % 4 or raw.endswith("==="):  # what the strict reading refuses, without raising
                return _BAD_BASE64
            try:
                return binascii.a2b_base64(raw, strict_mode=True)
            except (binascii.Error, ValueError):  # ValueError: a character outside ASCII
                return _BAD_BASE64
        return _NOT_PLAIN
    if type(raw) is int:
        if kind == "int32" and -(2**31) <= raw <= INT32_MAX:
            return raw
        if kind == "enum":
            assert prop.enum is not None
            return prop.enum.by_number.get(raw, _NOT_PLAIN)
    if type(raw) is bool and kind == "bool":
        return raw
    return _NOT_PLAIN


def _bind_general(pairs: list[tuple[str, Any]], contract: Contract, family: str) -> Binding:
    """Bind any body: every pair read, every problem described (the first LISTED of each kind)."""
    out = Binding()
    invalid = _read_pairs(pairs, contract, family, out)
    _check_properties(contract, invalid, out)
    return out


def _read_pairs(pairs: list[tuple[str, Any]], contract: Contract, family: str, out: Binding) -> set[str]:
    """Read each pair into `out`: unknown names warned of, repeats refused, values coerced.

    Returns the names of the properties whose value was refused.
    """
    seen: dict[str, str] = {}
    invalid: set[str] = set()
    describe = describe_xml_value if family == "xml" else describe_json_value
    known = ", ".join(p.name for p in contract.properties)
    unknown = repeated = 0  # how many: only the first LISTED of each are described
    for name, raw in pairs:
        prop = contract.by_lower.get(name.lower())
        if prop is None:
            unknown += 1
            if unknown <= LISTED:
                where = f"body.{printable(name)}"
                out.warnings.append(Violation(where, f"one of the known properties ({known})", "an unknown property"))
        elif prop.name in seen:
            repeated += 1
            if repeated <= LISTED:
                got = f"'{seen[prop.name]}' and '{name}'"
                out.violations.append(Violation(f"body.{prop.name}", f"given once ({_CASES})", got))
            invalid.add(prop.name)
        else:
            seen[prop.name] = name
            if raw is not None:  # null / xsi:nil: treated as absent
                _read_value(prop, raw, family, describe, out, invalid)
    if unknown > LISTED:
        out.warnings.append(Violation("body", f"only known properties ({known})", f"{unknown - LISTED} more unknown"))
    if repeated > LISTED:
        out.violations.append(Violation("body", f"each property once ({_CASES})", f"{repeated - LISTED} more repeats"))
    return invalid


def _read_value(prop: Property, raw: Any, family: str, describe: Any, out: Binding, invalid: set[str]) -> None:
    """Coerce one property's value into `out.values`, or record why it cannot be read."""
    if prop.type == "string" and isinstance(raw, str):
        out.values[prop.name] = printable(raw)  # the usual string: no need for the full coercion
        return
    try:
        out.values[prop.name] = coerce(prop, raw, family, describe, out.warnings)
    except Bad as bad:
        out.violations.append(Violation(f"body.{prop.name}", bad.expected, bad.got))
        invalid.add(prop.name)


def _check_properties(contract: Contract, invalid: set[str], out: Binding) -> None:
    """What the contract says of each property read (or not): required, missing, an empty or odd image."""
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


# ---- a body sent under the wrong Content-Type ------------------------------------------------

FORM_HINT = (
    "the body looks like {kind} sent as application/x-www-form-urlencoded (curl -d's default): "
    "send Content-Type: {ctype}"
)


def explain_misfiled(family: str, pairs: Sequence[tuple[str, Any]], violations: list[Violation]) -> list[Violation]:
    """Add the hint to the first violation when a form body is really JSON or XML; else return them as they are."""
    if family != "form" or not violations or not pairs:
        return violations
    first_key = str(pairs[0][0]).lstrip()
    if first_key.startswith(("{", "[")):
        hint = FORM_HINT.format(kind="JSON", ctype="application/json")
    elif first_key.startswith("<"):
        hint = FORM_HINT.format(kind="XML", ctype="application/xml")
    else:
        return violations
    return [replace(violations[0], got=f"{violations[0].got}; {hint}"), *violations[1:]]
