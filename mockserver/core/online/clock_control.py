"""Moving a fake's clock from outside: the ``clock`` setting and the body of ``POST /_clock``.

The setting (``--clock``, ``MOCKSERVER_CLOCK``, the marker's ``clock=``) is unset for real time,
``frozen`` for a clock stopped where it starts, or an ISO 8601 instant such as
``2026-12-07T10:00:00Z`` for a clock frozen there. ``POST /_clock`` takes any of
``{"advance_s": 21600}``, ``{"set": "2026-12-07T10:00:00Z"}`` and ``{"frozen": true}`` (more
than one applies in that order: freeze, set, advance); what it cannot read is a 400 naming it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mockserver.core.online.clock import Clock
from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation, preview

CLOCK_KEYS = ("frozen", "set", "advance_s")
# Ten years: far past any credential's life, short of what a datetime can hold.
MAX_ADVANCE_S = 10 * 365 * 86400


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 date-time with an offset (``Z`` or ``+01:00``) as aware UTC; None when it is not one."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.astimezone(UTC)


def check_clock_setting(value: str | None) -> None:
    """Refuse a ``clock`` setting that is neither unset, ``frozen`` nor an instant with an offset."""
    if value is None or value == "frozen" or parse_instant(value) is not None:
        return
    raise ConfigError(
        f"clock must be 'frozen' or an ISO 8601 instant with an offset such as 2026-12-07T10:00:00Z (got {value!r})"
    )


def clock_from_setting(value: str | None) -> Clock:
    """The clock a fake starts with: real, frozen now, or frozen at an instant."""
    check_clock_setting(value)
    if value is None:
        return Clock()
    if value == "frozen":
        return Clock(frozen=True)
    when = parse_instant(value)
    assert when is not None
    return Clock(frozen=True, start=when.timestamp())


def _bad(location: str, expected: str, got: Any) -> ApiError:
    shown = preview(repr(got), 60)
    return ApiError(
        400,
        [Violation(location, expected, shown)],
        message=f"/_clock could not read {location.removeprefix('body.')}: expected {expected}, got {shown}.",
    )


def apply_clock_body(clock: Clock, body: Any) -> None:
    """Apply one ``POST /_clock`` body to `clock`; a 400 naming the first thing it cannot read."""
    if not isinstance(body, Mapping) or not body:
        raise _bad("body", 'a JSON object with "advance_s", "set" or "frozen"', body)
    unknown = sorted(str(k) for k in body if k not in CLOCK_KEYS)
    if unknown:
        raise _bad(f"body.{preview(unknown[0], 30)[1:-1]}", f"one of {', '.join(CLOCK_KEYS)}", unknown[0])
    frozen = body.get("frozen")
    if "frozen" in body and not isinstance(frozen, bool):
        raise _bad("body.frozen", "true or false", frozen)
    when: datetime | None = None
    if "set" in body:
        raw = body["set"]
        when = parse_instant(raw) if isinstance(raw, str) else None
        if when is None:
            raise _bad("body.set", "an ISO 8601 instant with an offset, e.g. 2026-12-07T10:00:00Z", raw)
    step = body.get("advance_s", 0)
    if "advance_s" in body and (
        isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step) or step < 0
    ):
        raise _bad("body.advance_s", "a number of seconds, 0 or more", step)
    if step > MAX_ADVANCE_S:
        raise _bad("body.advance_s", f"at most {MAX_ADVANCE_S} seconds (ten years)", step)
    if frozen is True:
        clock.freeze()
    elif frozen is False:
        clock.unfreeze()
    if when is not None:
        clock.set(when)
    if step:
        clock.advance(float(step))


__all__ = ["apply_clock_body", "check_clock_setting", "clock_from_setting", "parse_instant"]
