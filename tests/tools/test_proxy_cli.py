"""`mockserver proxy` as a user runs it: a child process in front of a wrong upstream or a fake,
its log lines, /_drift, and the exit status at SIGINT or SIGTERM (3 on drift with --fail-on-drift)."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver import ThreadedFakeServer

from ..proxy_support import wrong_server_in_thread
from ..support import BASIC, SAVE_PATH, save_body

ROOT = Path(__file__).resolve().parents[2]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 302 is an answer to look at, not to follow


OPENER = urllib.request.build_opener(_NoRedirect)


class Proxied:
    """A `python -m mockserver proxy` child process and what it printed."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "proxy", "--port", "0", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        first = self.line()
        match = re.match(r"mockserver proxy listening on (http://\S+) -> (\S+)$", first)
        assert match, f"unexpected first line {first!r}; stderr: {self.proc.stderr.read() if self.proc.stderr else ''}"
        self.url, self.upstream = match.groups()
        limits = self.proc.stdout.readline()  # printed right after it: what the open-file limit allows
        assert limits.startswith("  open-file limit "), limits

    def line(self, timeout: float = 30) -> str:
        assert self.selector.select(timeout), "the proxy printed nothing"
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def call(self, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers)
        try:
            with OPENER.open(request, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


@pytest.fixture
def proxied() -> Iterator[type[Proxied]]:
    started: list[Proxied] = []

    class Tracked(Proxied):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.communicate()


JSON_AUTH = {"Content-Type": "application/json", "Authorization": BASIC}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_drift_with_fail_on_drift_exits_3_and_says_what_drifted(proxied: type[Proxied], sig: int) -> None:
    with wrong_server_in_thread() as wrong:
        proxy = proxied("--upstream", f"{wrong}/string_id", "--fail-on-drift")
        assert proxy.upstream == f"{wrong}/string_id"
        assert proxy.call(SAVE_PATH, save_body(), **JSON_AUTH) == (200, b'"33"')
        assert re.fullmatch(rf"#1 POST {SAVE_PATH} -> 200 \(upstream \d+ ms\) drift: result\n", proxy.line())
        status, summary = proxy.call("/_drift")
        code, out, err = proxy.stop(sig)
    assert status == 200 and json.loads(summary)["kinds"]["result"]["count"] == 1
    assert code == 3, err
    assert out.splitlines() == [
        "mockserver proxy stopped: 1 exchanges, 1 drift in 1",
        "  result: 1 (first: #1 body: expected an int32 such as 33, got string '33')",
    ]
    assert err == ""


def test_drift_without_fail_on_drift_exits_0(proxied: type[Proxied]) -> None:
    with wrong_server_in_thread() as wrong:
        proxy = proxied("--upstream", f"{wrong}/redirect", "--quiet")
        assert proxy.call(SAVE_PATH, save_body(), **JSON_AUTH)[0] == 302
        code, out, _err = proxy.stop()
    assert code == 0
    assert out.splitlines()[0] == "mockserver proxy stopped: 1 exchanges, 1 drift in 1"


def test_no_drift_in_front_of_a_fake_exits_0_with_fail_on_drift(proxied: type[Proxied]) -> None:
    with ThreadedFakeServer(port=0) as fake:
        proxy = proxied("--upstream", fake.url + "/Cust12345", "--fail-on-drift")
        assert proxy.call(SAVE_PATH, save_body(), **JSON_AUTH) == (200, b"1")
        assert proxy.call(SAVE_PATH, b"{}", **JSON_AUTH)[0] == 400
        code, out, err = proxy.stop()
    assert code == 0, err
    assert "mockserver proxy stopped: 2 exchanges, 0 drift in 0" in out
    assert [c.path for c in fake.calls] == [f"/Cust12345{SAVE_PATH}"] * 2


def test_insecure_says_on_stderr_what_it_gives_up(proxied: type[Proxied]) -> None:
    proxy = proxied("--upstream", "https://127.0.0.1:9/Cust1", "--insecure", "--quiet")
    code, _out, err = proxy.stop()
    assert code == 0
    assert err.startswith("warning: --insecure: the upstream's TLS certificate is not verified")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "sod.superoffice.com/Cust1"], "error: the upstream must be an http:// or https:// URL"),
        (["--upstream", "https://u:p@h/Cust1"], "error: the upstream URL must not hold credentials"),
        (["--upstream", "https://h/Cust1", "--ca-file", "/nonexistent/ca.pem"], "error: [Errno 2]"),
    ],
)
def test_an_unusable_upstream_or_ca_file_stops_the_command_with_status_2(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "proxy", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(message) and "Traceback" not in done.stderr


def test_the_command_lists_proxy() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "proxy", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for option in ("--upstream", "--fail-on-drift", "--insecure", "--ca-file", "--timeout"):
        assert option in done.stdout
