"""Where `mockserver serve` writes its lines: the standard output, flushed in batches off the request path.

A handler that flushed every line would make a system call per request; this one writes each
line into the stream's buffer and flushes at most every `FLUSH_EVERY` seconds, and a task of the
serve loop flushes what is left, so a line is out within that time even when calls stop. The
line per call skips the logging machinery (a LogRecord costs more than the line): `install`
has the shell hand it to `write_line` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TextIO

from ..http.app import set_line_sink

FLUSH_EVERY = 0.1  # seconds a line may wait in the buffer


class BatchedHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler that flushes at most every FLUSH_EVERY seconds (and on `flush_now`)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._flushed = time.monotonic()
        self.pending = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
        except Exception:  # as logging.StreamHandler does: a failing line never fails the call
            self.handleError(record)
            return
        self.pending = True
        if time.monotonic() - self._flushed >= FLUSH_EVERY:
            self.flush_now()

    def write_line(self, text: str) -> None:
        """A call line, written as `emit` writes a record's message, without making a LogRecord."""
        try:
            self.stream.write(text + self.terminator)
        except Exception:  # a line that cannot be written never fails the call
            self.handleError(logging.makeLogRecord({"msg": text, "name": "mockserver", "levelno": logging.INFO}))
            return
        self.pending = True
        if time.monotonic() - self._flushed >= FLUSH_EVERY:
            self.flush_now()

    def flush_now(self) -> None:
        self.pending = False
        self._flushed = time.monotonic()
        self.flush()


def install(stream: TextIO) -> BatchedHandler:
    """Log INFO and up, the message alone, to `stream` in batches (what `mockserver serve` logs with)."""
    handler = BatchedHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    set_line_sink(handler.write_line)  # the line per call goes straight to the stream's buffer
    return handler


def uninstall(handler: BatchedHandler) -> None:
    """Flush, and send call lines to the logger again (the handler stays with logging's root)."""
    set_line_sink(None)
    with contextlib.suppress(ValueError, OSError):  # the stream may be gone already
        handler.flush_now()


async def flush_periodically(handler: BatchedHandler) -> None:
    """Flush what is left in the buffer every FLUSH_EVERY seconds, until cancelled."""
    while True:
        await asyncio.sleep(FLUSH_EVERY)
        if handler.pending:
            handler.flush_now()
