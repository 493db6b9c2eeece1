"""`mockserver serve --loop asyncio|uvloop` (env MOCKSERVER_LOOP): the choice, and the error without uvloop."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import urllib.request

import pytest

from mockserver.core.vocabulary.errors import ConfigError
from mockserver.tools.cli import build_parser, loop_factory, main, settings_and_sources

from ..support import BASIC, ROOT, SAVE_PATH, save_body


def test_asyncio_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCKSERVER_LOOP", raising=False)
    assert settings_and_sources(build_parser().parse_args(["serve"]))[0].loop == "asyncio"
    assert loop_factory(None) is None
    assert loop_factory("asyncio") is None


def test_the_option_takes_only_known_loops(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--loop", "trio"])
    assert "invalid choice: 'trio'" in capsys.readouterr().err


def test_a_wrong_environment_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_LOOP", "uv")
    with pytest.raises(ConfigError, match="MOCKSERVER_LOOP must be one of asyncio, uvloop"):
        settings_and_sources(build_parser().parse_args(["serve"]))[0]
    # the option wins over the environment
    monkeypatch.setenv("MOCKSERVER_LOOP", "uvloop")
    assert settings_and_sources(build_parser().parse_args(["serve", "--loop", "asyncio"]))[0].loop == "asyncio"


def test_without_uvloop_serve_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert main(["serve", "--loop", "uvloop", "--port", "0"]) == 2
    assert "pip install 'mockserver[speed]'" in capsys.readouterr().err
    monkeypatch.setenv("MOCKSERVER_LOOP", "uvloop")
    assert main(["serve", "--port", "0"]) == 2


def test_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop")
    assert loop_factory("uvloop") is uvloop.new_event_loop
    monkeypatch.setenv("MOCKSERVER_LOOP", "uvloop")
    assert settings_and_sources(build_parser().parse_args(["serve"]))[0].loop == "uvloop"


def test_serve_on_uvloop_answers_and_stops_cleanly() -> None:
    pytest.importorskip("uvloop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--loop", "uvloop", "--port", "0", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        match = re.match(r"mockserver listening on (http://\S+) ", proc.stdout.readline() if ready else "")
        assert match, "serve --loop uvloop did not start"
        request = urllib.request.Request(
            match.group(1) + SAVE_PATH,
            data=save_body(),
            headers={"Content-Type": "application/json", "Authorization": BASIC},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert (resp.status, resp.read()) == (200, b"1")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and out.endswith("mockserver stopped\n") and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
