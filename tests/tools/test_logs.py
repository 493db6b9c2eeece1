"""`mockserver serve`'s log handler: lines go into the stream's buffer, flushed in batches and by the loop."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest

from mockserver.http import app
from mockserver.tools import logs
from mockserver.tools.cli import main


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("mockserver", logging.INFO, __file__, 1, text, None, None)


def test_lines_are_written_at_once_and_flushed_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 3600.0)
    stream = CountingStream()
    handler = logs.BatchedHandler(stream)
    for i in range(100):
        handler.emit(_record(f"line {i}"))
    assert stream.getvalue().splitlines() == [f"line {i}" for i in range(100)]
    assert stream.flushes == 0 and handler.pending
    handler.flush_now()
    assert stream.flushes == 1 and not handler.pending


def test_a_line_after_the_interval_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 0.0)
    stream = CountingStream()
    handler = logs.BatchedHandler(stream)
    handler.emit(_record("now"))
    assert stream.flushes == 1 and not handler.pending


async def test_the_loop_flushes_what_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 3600.0)
    stream = CountingStream()
    handler = logs.BatchedHandler(stream)
    handler.emit(_record("last"))
    monkeypatch.setattr(logs, "FLUSH_EVERY", 0.01)
    task = asyncio.create_task(logs.flush_periodically(handler))
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            if not handler.pending:
                break
    finally:
        task.cancel()
    assert not handler.pending and stream.flushes >= 1


def test_a_line_that_cannot_be_written_does_not_raise(capsys: pytest.CaptureFixture[str]) -> None:
    stream = CountingStream()
    stream.close()
    handler = logs.BatchedHandler(stream)
    handler.emit(_record("lost"))
    assert "Logging error" in capsys.readouterr().err


def test_serve_sends_call_lines_straight_to_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 3600.0)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = CountingStream()
    try:
        handler = logs.install(stream)
        assert app._SINK[0] == handler.write_line
        handler.write_line("#1 POST /x -> 200 id 1")
        logging.getLogger("mockserver").info("a warning line")
        assert stream.getvalue() == "#1 POST /x -> 200 id 1\na warning line\n"
        assert stream.flushes == 0 and handler.pending
    finally:
        app.set_line_sink(None)
        root.handlers, root.level = saved


def test_a_serve_that_ends_leaves_no_writer_behind(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    broken = tmp_path / "Broken.toml"
    broken.write_text("not = [toml", encoding="utf-8")
    try:
        assert main(["serve", "--port", "0", "--contracts", str(broken)]) == 2
        assert app._SINK[0] is None
    finally:
        app.set_line_sink(None)
        root.handlers, root.level = saved
