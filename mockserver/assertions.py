"""Assertion helpers on a fake: assert_saved, assert_no_violations, wait_for_calls."""

from __future__ import annotations


class Assertions:
    """Mixed into `Fake`; every method reads `self.calls` and `self.images`."""
