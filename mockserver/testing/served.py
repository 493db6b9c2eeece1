"""What every server a test starts shares: bind on start, the URLs, an idempotent close, ``async with``."""

from __future__ import annotations

import asyncio
from typing import Self

from ..core.config import Settings
from ..http.runner import Site


class Served:
    """Mixed into `FakeServer` and `ProxyServer`, which are fakes that a `Site` serves."""

    _site: Site
    settings: Settings
    port: int | None
    serving_loop: asyncio.AbstractEventLoop | None

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return self._site.url

    @property
    def api_url(self) -> str:
        """The URL of the call itself: ``<url>/api/v1/Agents/BLOB/SaveImageStream``."""
        return self._site.api_url

    async def start(self) -> Self:
        """Bind (port 0 picks a free port) and serve; return self."""
        if not self._site.started:
            self.port = await self._site.start()
            self.serving_loop = asyncio.get_running_loop()
            if self.settings.port == 0:  # the settings in force (/_health, the banner) say the port bound
                self.settings = self.settings.with_(port=self.port)
        return self

    async def close(self) -> None:
        """Stop serving, then let go of what the server holds (see `_closed`). Safe to call more than once."""
        self.serving_loop = None
        await self._site.close()
        await self._closed()

    async def _closed(self) -> None:
        """What a server releases once it no longer serves."""

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
