"""pytest fixtures: a fresh fake per test, configured with ``@pytest.mark.superoffice(...)``.

Registered through the ``pytest11`` entry point, so installing the package is all a user needs.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..core.config import Settings, fake_setting_names
from ..core.loader import load_contracts
from ..core.vocabulary.contract import ContractSet
from ..core.vocabulary.errors import ConfigError
from .server import FakeServer, ThreadedFakeServer

# What the serve command alone decides (its log lines, its event loop) is no fixture's business:
# those settings say so in their metadata (`shell_only`).
SETTING_NAMES = fake_setting_names()
MARKER_KEYWORDS = tuple(sorted((*SETTING_NAMES, "faults")))
ASYNC_NEEDS = "superoffice_fake_async needs pytest-asyncio: pip install 'mockserver[pytest]'"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "superoffice(**settings): configure the superoffice_fake fixtures with "
        + ", ".join(f"{k}=" for k in MARKER_KEYWORDS)
        + " (faults=[{...}, ...] are injected before the test starts)",
    )


@functools.cache
def shared_contracts(path: Path | None) -> ContractSet:
    """Contracts are frozen, so one process loads each contract folder once for all its fakes."""
    return load_contracts(path)


def _settings(request: pytest.FixtureRequest) -> Settings:
    values: dict[str, Any] = {}
    # Closest marker last so it wins: module, class, then function.
    for marker in reversed(list(request.node.iter_markers("superoffice"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.superoffice takes keyword arguments only, e.g. first_id=33")
        unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
        if unknown:
            raise pytest.UsageError(
                f"@pytest.mark.superoffice got unknown keyword(s) {', '.join(unknown)}; "
                f"known: {', '.join(MARKER_KEYWORDS)}"
            )
        values.update({k: v for k, v in marker.kwargs.items() if k != "faults"})
    values.setdefault("port", 0)
    try:
        return Settings(**values)
    except ConfigError as exc:
        raise pytest.UsageError(f"@pytest.mark.superoffice: {exc}") from None


def _faults(request: pytest.FixtureRequest) -> list[Any]:
    """The closest marker's ``faults=[...]`` (fault dicts or `Fault` objects)."""
    for marker in request.node.iter_markers("superoffice"):
        if "faults" in marker.kwargs:
            return list(marker.kwargs["faults"])
    return []


@pytest.fixture
def superoffice_fake(request: pytest.FixtureRequest) -> Iterator[ThreadedFakeServer]:
    """A fresh fake served from a background thread: for sync and async tests alike."""
    settings = _settings(request)
    with ThreadedFakeServer(settings, contracts=shared_contracts(settings.contracts)) as fake:
        fake.inject_all(_faults(request))
        yield fake


try:
    import pytest_asyncio
except ImportError:  # the pytest extra brings it; without it the fixture says so in one line
    pytest_asyncio = None  # type: ignore[assignment]  # no module: the fallback fixture below


if pytest_asyncio is not None:
    # loop_scope named, so neither mode (auto or strict) has pytest-asyncio guess or warn about it.
    @pytest_asyncio.fixture(loop_scope="function")
    async def superoffice_fake_async(request: pytest.FixtureRequest) -> AsyncIterator[FakeServer]:
        """A fresh fake started in the test's own event loop."""
        settings = _settings(request)
        async with FakeServer(settings, contracts=shared_contracts(settings.contracts)) as fake:
            fake.inject_all(_faults(request))
            yield fake

else:

    @pytest.fixture
    def superoffice_fake_async() -> None:
        """Stands in for the async fixture when pytest-asyncio is missing: fails saying what to install."""
        pytest.fail(ASYNC_NEEDS, pytrace=False)
