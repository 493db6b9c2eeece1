"""An assertion given as data: ``{"assert_saved": {"type": "PersonImage"}, "wait": 5}`` checked and run.

`POST /_assert` and the remote client speak this. Each assertion is a method of the Python API
(`Assertions`), run as it is, so the message a client gets over HTTP is the message of the
`AssertionError` in Python; this module only reads the JSON into keyword arguments, refusing
what the method would not take with a 400 that names the field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.assertions import Assertions
from ..core.vocabulary.errors import ApiError, Violation, preview
from ..core.vocabulary.journal import CallList
from ..core.vocabulary.records import CallRecord

MAX_WAIT = 30.0  # seconds a client may ask an assertion or /_calls to wait
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
OUTCOMES = ("accepted", "rejected")


@dataclass(frozen=True, slots=True)
class Param:
    """One keyword an assertion takes over HTTP: the JSON type it wants and how to read it."""

    expected: str
    read: Callable[[Any], Any | None]  # the value for the Python method, or None when it is not one


def _text(value: Any) -> Any | None:
    return value if isinstance(value, str) else None


def _whole(minimum: int) -> Callable[[Any], Any | None]:
    def read(value: Any) -> Any | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return value if ok else None

    return read


def _base64(value: Any) -> Any | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _sha256(value: Any) -> Any | None:
    return value.lower() if isinstance(value, str) and SHA256.fullmatch(value) else None


def _outcome(value: Any) -> Any | None:
    return value if value in OUTCOMES else None


SAVED = {
    "type": Param("a string (the Type, any case)", _text),
    "description": Param("a string", _text),
    "image": Param("the image's bytes in base64", _base64),
    "image_sha256": Param("the image's sha256 as 64 hex digits", _sha256),
    "blob_id": Param("a whole number of at least 1", _whole(1)),
    "count": Param("a whole number of at least 0", _whole(0)),
}
CALLS = {
    "n": Param("a whole number of at least 1", _whole(1)),
    "outcome": Param("accepted or rejected", _outcome),
    "type": Param("a string", _text),
    "path": Param("a string (an agent path)", _text),
    "operation": Param("a string (an operation name, e.g. SaveImageStream)", _text),
    "status": Param("a whole number (an HTTP status)", _whole(0)),
    "method": Param("a string (an HTTP method)", _text),
}
# Every assertion of the Python API, by method name, with the keywords it takes over HTTP.
ASSERTIONS: dict[str, dict[str, Param]] = {
    "assert_saved": SAVED,
    "assert_no_violations": {},
    "assert_no_warnings": {},
    "wait_for_calls": CALLS,
}


@dataclass(frozen=True, slots=True)
class Expectation:
    """A parsed `/_assert` body: which assertion, its keyword arguments, and how long to wait for it."""

    name: str
    kwargs: Mapping[str, Any]
    wait: float

    def check(self, fake: Assertions) -> list[CallRecord]:
        """Run the assertion once on `fake`: the records it matched, or its ExpectationFailed."""
        if self.name == "assert_saved":
            return [fake.assert_saved(**self.kwargs)]
        if self.name == "wait_for_calls":
            found: CallList = fake.check_calls(timeout=self.wait, **self.kwargs)
            return list(found)
        getattr(fake, self.name)()
        return []


def shown(value: Any) -> str:
    """A JSON value as a violation's `got`: text shortened, other values named by their JSON type."""
    if isinstance(value, str):
        return preview(value, 40)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return preview(repr(value), 20)
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def _part(key: str) -> str:
    """A JSON key as part of a violation's location: cut short, and printable."""
    return ascii(key[:30])[1:-1]


def _bad(location: str, expected: str, got: Any) -> ApiError:
    return ApiError(400, [Violation(location, expected, shown(got))])


def wait_seconds(value: Any, location: str) -> float:
    """A wait in seconds, 0 to MAX_WAIT (a number, or text holding one); else a 400 naming `location`."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not 0 <= number <= MAX_WAIT:  # NaN too
        raise _bad(location, f"a number of seconds from 0 to {MAX_WAIT:g}", value)
    return number


def parse_expectation(data: Any) -> Expectation:
    """Read a `/_assert` body (already JSON-decoded); a 400 naming the first thing wrong."""
    names = ", ".join(ASSERTIONS)
    if not isinstance(data, dict):
        raise _bad("body", f'a JSON object naming one assertion ({names}), e.g. {{"assert_saved": {{}}}}', data)
    wait = wait_seconds(data["wait"], "body.wait") if "wait" in data else 0.0
    named = [key for key in data if key != "wait"]
    for key in named:
        if key not in ASSERTIONS:
            raise _bad(f"body.{_part(key)}", f"one of {names}, or wait", key)
    if len(named) != 1:
        raise ApiError(400, [Violation("body", f"exactly one assertion of {names}", f"{len(named)} of them")])
    name = named[0]
    given = data[name]
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise _bad(f"body.{name}", "a JSON object of keyword arguments", given)
    params = ASSERTIONS[name]
    kwargs: dict[str, Any] = {}
    for key, value in given.items():
        param = params.get(key)
        if param is None:
            known = ", ".join(params) or "no keywords"
            raise _bad(f"body.{name}.{_part(key)}", f"one of {known}", key)
        if value is None:
            continue  # as in Python: None means "any"
        read = param.read(value)
        if read is None:
            raise _bad(f"body.{name}.{key}", param.expected, value)
        kwargs[key] = read
    if "image" in kwargs and "image_sha256" in kwargs:
        raise ApiError(400, [Violation(f"body.{name}.image_sha256", "either image or image_sha256, not both", "both")])
    return Expectation(name, kwargs, wait)
