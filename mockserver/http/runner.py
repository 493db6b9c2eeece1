"""Start and stop a site serving one fake: bind (port 0 picks a free port), serve, clean up."""

from __future__ import annotations

import gc
from collections.abc import Callable

from aiohttp import web

from ..core.fake import Fake
from .app import build_app
from .protocol import FakeRunner

# aiohttp's parser refuses header lines over 8190 bytes by default, before any handler runs and so
# unjournaled. Raised far past IIS's 16 KiB, the fake's own rule (core.headers.MAX_HEADER_VALUE)
# answers and records oversized headers; only lines beyond this limit still meet the parser's refusal.
HEADER_PARSER_LIMIT = 256 * 1024


class Site:
    """One fake served at ``settings.host:settings.port`` in the running event loop."""

    def __init__(
        self,
        fake: Fake,
        build: Callable[[Fake], web.Application] = build_app,
        what: str = "fake",
        port: int | None = None,
    ) -> None:
        self.fake = fake
        self.wanted_port = port  # None: the settings' port
        self.build = build  # the application serving `fake` (a proxy builds its own)
        self.what = what  # what errors call it: the fake, the proxy
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    @property
    def started(self) -> bool:
        return self._runner is not None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self.port is None:
            raise RuntimeError(f"the {self.what} is not started; call start() or use 'async with'")
        host = self.fake.settings.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The URL of SaveImageStream itself (contracts load in file-name order, so it is named)."""
        contracts = self.fake.contracts
        main = next((c for c in contracts if c.name == "SaveImageStream"), contracts.contracts[0])
        return self.url + main.path

    async def start(self) -> int:
        """Bind and serve; return the port actually bound. A second call does nothing."""
        if self._runner is not None:
            assert self.port is not None
            return self.port
        settings = self.fake.settings
        runner = FakeRunner(
            self.fake,
            self.build(self.fake),
            access_log=None,
            handle_signals=False,
            max_line_size=HEADER_PARSER_LIMIT,
            max_field_size=HEADER_PARSER_LIMIT,
        )
        await runner.setup()
        port = settings.port if self.wanted_port is None else self.wanted_port
        site = web.TCPSite(runner, settings.host, port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        addresses = runner.addresses  # (host, port, …) of every bound socket
        self.port = int(addresses[0][1]) if addresses else port
        return self.port

    async def close(self) -> None:
        """Stop serving. Safe to call more than once."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def freeze_startup_objects() -> None:
    """Keep what start-up allocated out of every later full collection (``mockserver serve`` only).

    Modules, functions, contracts and the app live as long as the process; without this each
    full collection walks them all again (tens of thousands of objects, pauses of 10-20 ms that
    every request in flight waits out). Not for the pytest fixtures: it would freeze the user's
    objects too.
    """
    gc.collect()
    gc.freeze()
