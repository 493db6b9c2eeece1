"""The fake's clock: real by default, moved by tests, frozen on request."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from mockserver.core.online.clock import Clock


def test_a_new_clock_runs_with_real_time() -> None:
    clock = Clock()
    assert abs(clock.now() - time.time()) < 1.0
    assert not clock.frozen


def test_advance_moves_a_running_clock_forward_by_the_sum_of_its_units() -> None:
    clock = Clock()
    before = clock.now()
    after = clock.advance(30, minutes=1, hours=6, days=1)
    assert after - before == pytest.approx(30 + 60 + 6 * 3600 + 86400, abs=1.0)


def test_a_frozen_clock_stands_still_until_advanced() -> None:
    clock = Clock(frozen=True)
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() == first
    assert clock.advance(hours=6) == first + 6 * 3600


def test_set_puts_the_clock_at_an_instant_and_unfreeze_runs_on_from_it() -> None:
    clock = Clock(frozen=True)
    when = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert clock.set(when) == when.timestamp()
    assert clock.utcnow() == when
    clock.unfreeze()
    assert not clock.frozen
    assert abs(clock.now() - when.timestamp()) < 1.0


def test_advance_refuses_to_go_back() -> None:
    with pytest.raises(ValueError, match="only advances"):
        Clock().advance(-1)


def test_reset_returns_to_real_running_time() -> None:
    clock = Clock(frozen=True, start=0.0)
    assert clock.now() == 0.0
    clock.reset()
    assert not clock.frozen
    assert abs(clock.now() - time.time()) < 1.0
    assert clock.to_json()["frozen"] is False
