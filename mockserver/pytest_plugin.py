"""pytest fixtures: a fresh fake per test, configured with ``@pytest.mark.superoffice(...)``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .server import FakeServer, ThreadedFakeServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "superoffice(**settings): configure the superoffice_fake fixtures "
        "(first_id=, installation=, strict=, credentials=, max_body_size=, journal_limit=, ...)",
    )


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    values: dict[str, Any] = {}
    # Closest marker last so it wins: module, class, then function.
    for marker in reversed(list(request.node.iter_markers("superoffice"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.superoffice takes keyword arguments only, e.g. first_id=33")
        values.update(marker.kwargs)
    values.setdefault("port", 0)
    return values


@pytest.fixture
def superoffice_fake(request: pytest.FixtureRequest) -> Iterator[ThreadedFakeServer]:
    """A fresh fake served from a background thread: for sync and async tests alike."""
    with ThreadedFakeServer(**_settings(request)) as fake:
        yield fake


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-aiohttp brings pytest-asyncio
    pytest_asyncio = None


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def superoffice_fake_async(request: pytest.FixtureRequest) -> AsyncIterator[FakeServer]:
        """A fresh fake started in the test's own event loop."""
        async with FakeServer(**_settings(request)) as fake:
            yield fake
