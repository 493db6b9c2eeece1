"""Serve a fake over HTTP: in the caller's event loop, or from a background thread."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any, Self

from ..core.config import Settings
from ..core.fake import Fake
from ..core.storage.state import Storage
from ..core.vocabulary.contract import ContractSet
from ..core.vocabulary.errors import ConfigError
from ..http.online import OnlineSites
from ..http.runner import Site
from .served import Served


class FakeServer(Served, Fake):
    """A fake served in the running event loop. ``async with FakeServer(port=0) as fake: fake.url``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        contracts: ContractSet | None = None,
        storage: Storage | None = None,
        **overrides: Any,
    ) -> None:
        """Configure the fake; `start` (or ``async with``) binds and serves it.

        Args:
            settings: every setting at once; by default `Settings()` (port 8080).
            contracts: the contracts to serve; by default those `settings.contracts` names, else the packaged ones.
            storage: where the state lives; by default memory, or the SQLite file `settings.state` names.
            **overrides: any field of `Settings` by name, over `settings`: ``port=0, first_id=33, strict=True``.
        """
        super().__init__(settings, contracts=contracts, storage=storage, **overrides)
        self._site = OnlineSites(self) if self.online is not None else Site(self)
        self.port: int | None = None

    async def start(self) -> Self:
        await super().start()
        self.login.base_url = self.url  # the URLs inside tokens a consent issues
        return self

    def url_of(self, host: str) -> str:
        """Online mode: the URL a host is served at (``fake.url_of("sod3")``)."""
        if not isinstance(self._site, OnlineSites):
            raise ConfigError("url_of needs Online mode: start the fake with online_hosts='sod,sod2,sod3'")
        return self._site.url_of(host)

    async def _closed(self) -> None:
        self.release()  # unlock a --state file (every tenant's) so a restarted fake can open it


class ThreadedFakeServer(FakeServer):
    """A fake served from its own thread and event loop, for synchronous code.

    ``with ThreadedFakeServer() as fake: requests.post(fake.api_url, ...)``
    """

    # Configured as `FakeServer` is; `start_thread` (or ``with``) serves it from its own thread.
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    def start_thread(self) -> ThreadedFakeServer:
        """Start the loop thread and serve; return once the port is bound."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(FakeServer.start(self))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(FakeServer.close(self))
            loop.close()

        thread = threading.Thread(target=run, name="mockserver", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop_thread(self) -> None:
        """Stop serving and join the thread. Safe to call more than once."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    def __enter__(self) -> ThreadedFakeServer:
        return self.start_thread()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_thread()
