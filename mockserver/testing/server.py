"""Serve a fake over HTTP: in the caller's event loop, or from a background thread."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from ..core.fake import Fake
from ..http.runner import Site


class FakeServer(Fake):
    """A fake served in the running event loop. ``async with FakeServer() as fake: fake.url``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._site = Site(self)
        self.port: int | None = None

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

    async def start(self) -> FakeServer:
        """Bind (port 0 picks a free port) and serve; return self."""
        if not self._site.started:
            self.port = await self._site.start()
            self.serving_loop = asyncio.get_running_loop()
        return self

    async def close(self) -> None:
        """Stop serving. Safe to call more than once."""
        self.serving_loop = None
        await self._site.close()
        self.release()  # unlock a --state file (every tenant's) so a restarted fake can open it

    async def __aenter__(self) -> FakeServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class ThreadedFakeServer(FakeServer):
    """A fake served from its own thread and event loop, for synchronous code.

    ``with ThreadedFakeServer() as fake: requests.post(fake.api_url, ...)``
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

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
