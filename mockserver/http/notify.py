"""Delivering state-change notifications: POSTed from a task of their own, bounded in time and retries.

The core records each notification (`core.online.notify`) and hands it here through a
thread-safe queue; a receiver that hangs, refuses or answers garbage costs one entry in the
notification's ``attempts`` and nothing else: the fake never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from ..core.online.notify import Notification, Notifier

ATTEMPTS = 3
# Between attempts, as SuperOffice's webhooks wait (1 s, then 4 s), capped by the timeout.
WAITS = (1.0, 4.0)


class Delivery:
    """One task that POSTs every notification handed to it, in order, while the fake serves."""

    def __init__(self, notifier: Notifier, timeout_ms: int) -> None:
        self.notifier = notifier
        self.timeout = timeout_ms / 1000
        self._queue: asyncio.Queue[Notification] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = loop.create_task(self._run())

        def send(note: Notification) -> None:  # from any thread: the core may run on a worker thread
            loop.call_soon_threadsafe(self._queue.put_nowait, note)

        self.notifier.send = send

    async def close(self) -> None:
        self.notifier.send = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _run(self) -> None:
        while True:
            note = await self._queue.get()
            await self._deliver(note)

    async def _deliver(self, note: Notification) -> None:
        assert self._session is not None
        try:
            for attempt in range(ATTEMPTS):
                if attempt:
                    await asyncio.sleep(min(WAITS[attempt - 1], self.timeout))
                try:
                    async with self._session.post(note.url, json=note.payload) as answer:
                        note.attempts.append(str(answer.status))
                        if answer.status == 200:  # as for webhooks: anything else is a failure
                            note.delivered = True
                            return
                except TimeoutError:
                    note.attempts.append("timeout")
                except (aiohttp.ClientError, OSError, ValueError) as exc:
                    note.attempts.append(f"error: {type(exc).__name__}: {exc}"[:200])
        finally:
            note.done = True


__all__ = ["Delivery"]
