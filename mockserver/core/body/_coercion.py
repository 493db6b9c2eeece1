"""The rules a body value is read by, as the .NET server reads it: base64, enums, int32, bool, string.

`coerce` turns a raw value (JSON, XML text or form text) into the property's type or raises
`Bad` with what was expected and what arrived; the binders (binding.py) collect those.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.core.vocabulary._base64 import Base64Error, decode_base64
from mockserver.core.vocabulary._printable import printable
from mockserver.core.vocabulary.contract import INT32_MAX, Property
from mockserver.core.vocabulary.errors import Violation, describe_json_value, preview

_INT_TEXT = re.compile(r"[+-]?\d{1,12}")


class Bad(Exception):
    """A value the property cannot take: what was expected, and what arrived."""

    def __init__(self, expected: str, got: str) -> None:
        self.expected = expected
        self.got = got


def expected_of(prop: Property) -> str:
    if prop.type == "enum" and prop.enum is not None:
        return prop.enum.describe()
    return {
        "bytes": "base64",
        "string": "a string",
        "int32": "an int32",
        "bool": "true or false",
    }.get(prop.type, prop.type)


def coerce(prop: Property, raw: Any, family: str, describe: Any, warnings: list[Violation]) -> Any:
    if prop.type == "enum":
        return coerce_enum(prop, raw, describe)
    if prop.type == "bytes":
        return coerce_bytes(prop, raw, family, describe)
    if prop.type == "string":
        if isinstance(raw, str):
            return printable(raw)
        if isinstance(raw, int | float) and family == "json":
            # The .NET JSON reader turns a primitive into its text for a string property.
            text = str(raw).lower() if isinstance(raw, bool) else json_number_text(raw)
            warnings.append(Violation(f"body.{prop.name}", "a string", f"{describe(raw)}, read as '{text}'"))
            return text
        raise Bad("a string", describe(raw))
    if prop.type == "int32":
        return coerce_int32(raw, describe)
    if prop.type == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
            return raw.strip().lower() == "true"
        raise Bad("true or false", describe(raw))
    raise Bad(prop.type, describe(raw))  # unreachable: contract.py checks the type names


def json_number_text(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def coerce_int32(raw: Any, describe: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and _INT_TEXT.fullmatch(raw.strip()):
        number = int(raw.strip())
    else:
        raise Bad("an int32", describe(raw))
    if not -(2**31) <= number <= INT32_MAX:
        raise Bad("an int32", f"{number}, out of range")
    return number


def coerce_enum(prop: Property, raw: Any, describe: Any) -> str:
    enum = prop.enum
    assert enum is not None
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw in enum.by_number:
            return enum.by_number[raw]
        raise Bad(enum.describe(), f"number {raw}, which is not a {enum.name}")
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in enum.by_lower:
            return enum.by_lower[text.lower()]
        if _INT_TEXT.fullmatch(text):
            number = int(text)
            if number in enum.by_number:
                return enum.by_number[number]
            raise Bad(enum.describe(), f"'{text}', which is not a {enum.name}")
        raise Bad(enum.describe(), f"{preview(raw)}, which is not a {enum.name}")
    raise Bad(enum.describe(), describe(raw))


def coerce_bytes(prop: Property, raw: Any, family: str, describe: Any) -> bytes:
    if isinstance(raw, str):
        try:
            return decode_base64(raw)
        except Base64Error as exc:
            hint = ""
            if family == "form" and " " in raw:
                hint = "; in a form body '+' must be sent as %2B"
            raise Bad("base64", f"{preview(raw)}: {exc}{hint}") from None
    if isinstance(raw, list) and family == "json":
        for i, item in enumerate(raw):
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 255:
                raise Bad(
                    "base64, or an array of integers 0-255",
                    f"array whose item {i} is {describe_json_value(item)}",
                )
        return bytes(raw)
    expected = "base64, or an array of integers 0-255" if family == "json" else "base64"
    raise Bad(expected, describe(raw))
