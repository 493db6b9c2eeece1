"""Out of file descriptors: said at start, answered with a 503, and never a flood of tracebacks.

`mockserver serve` runs in a child process whose open-file limit is lowered to 100, with
isolated tenants each keeping a state file open, and is given more tenants than the limit
allows. Loopback only; the number of calls is bounded.
"""

from __future__ import annotations

import json
import logging
import re
import resource
import select
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from mockserver.http.logs import OncePerMinute

from ..support import BASIC, SAVE_PATH, save_body

LIMIT = 100


def lowered() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def post(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=save_body(), headers={"Content-Type": "application/json", "Authorization": BASIC}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_past_the_open_file_limit_calls_get_503s_and_the_log_stays_small(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet"]
    command += ["--tenants", "isolated", "--state", str(tmp_path / "app.sqlite")]
    proc = subprocess.Popen(command, preexec_fn=lowered, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        match = re.search(r"listening on (http://\S+) ", first)
        assert match, first
        banner: list[str] = []
        while not banner or not banner[-1].startswith("  open-file limit"):  # its last line
            ready, _, _ = select.select([proc.stdout], [], [], 30)  # a bound, not a speed assertion
            assert ready and len(banner) < 60, banner
            banner.append(proc.stdout.readline().decode())
        said = [line for line in banner if line.startswith("  open-file limit")]
        assert said == [f"  open-file limit {LIMIT}: at most 36 connections; headers within 10 s\n"]
        statuses: Counter[int] = Counter()
        for n in range(60):  # more tenants than 100 descriptors hold
            status, body = post(f"{match.group(1)}/Cust{n}{SAVE_PATH}")
            statuses[status] += 1
            if status != 200:
                assert status == 503, body
                error = json.loads(body)
                # A tenant whose state file cannot be opened says so (storage); the rest is the shell's own 503.
                assert error["ErrorType"] in ("ServiceUnavailableException", "StateFileUnavailableException")
                assert "file descriptor" in error["Message"] or "open" in error["Message"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert statuses[500] == 0
    assert statuses[503] > 0, statuses  # the limit was reached, and answered
    assert out.count(b"Traceback") <= 4, out.decode(errors="replace")[-3000:]  # one per kind, not per call
    assert len(out) < 64 * 1024


def record(exc: BaseException, msg: str = "failed %s") -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        info = sys.exc_info()
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, ("x",), info)


def test_the_same_traceback_passes_once_a_minute_and_then_says_how_many_were_dropped() -> None:
    now = [0.0]
    limit = OncePerMinute(clock=lambda: now[0])
    emfile = OSError(24, "Too many open files")
    passed = [limit.filter(record(emfile, f"handle {i} %s")) for i in range(1000)]  # messages differ, kind not
    assert passed.count(True) == 1
    now[0] = 30.0
    assert not limit.filter(record(emfile))
    assert limit.filter(record(ValueError("another kind")))  # another kind has its own minute
    now[0] = 61.0
    again = record(emfile)
    assert limit.filter(again)
    assert "1000 more times" in again.getMessage()
    assert limit.filter(logging.LogRecord("mockserver", logging.INFO, __file__, 1, "no traceback", (), None))
