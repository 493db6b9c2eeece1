"""Shared fixtures and hypothesis profiles for the mockserver test suite."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The plugin's own tests run user test files through pytester.
pytest_plugins = ["pytester"]

# `ci`: derandomized and sized so `make test` stays well under ten minutes on 2 cores.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# `dev`: deeper local runs (`make fuzz`).
settings.register_profile(
    "dev",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
