"""Start a server under test in its own process, and load it with wrk (or the Python fallback)."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0


def child_cwd() -> Path:
    # `python -m` puts the working directory first on sys.path, ahead of PYTHONPATH.
    return Path(os.environ.get("BENCH_SRC") or ROOT)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # BENCH_SRC points at another copy of the project (e.g. a `git archive` of one commit) to measure.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("BENCH_SRC"), str(ROOT), env.get("PYTHONPATH")]))
    return env


class Target:
    """A server process (``fake`` or ``bare``) on 127.0.0.1, stopped on exit."""

    def __init__(self, kind: str, *extra: str) -> None:
        self.kind = kind
        self.args = [sys.executable, "-m", "benchmarks.targets", kind, *extra]
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Target:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, cwd=child_cwd(), env=child_env())
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_TIMEOUT)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{self.kind} server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status(self, field: str) -> int:
        """A size field of /proc/<pid>/status (VmHWM, VmRSS) in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non2xx: int
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk(log: list[str]) -> str | None:
    """Return the wrk binary, installing Debian's package when it is missing and we may."""
    found = shutil.which("wrk")
    if found or os.environ.get("BENCH_LOADGEN") == "python":
        return None if os.environ.get("BENCH_LOADGEN") == "python" else found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        log.append("wrk is not installed and apt-get cannot run here: using the Python load generator")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([apt, "update", "-qq"], check=True, capture_output=True, timeout=300, env=env)
        subprocess.run([apt, "install", "-y", "-qq", "wrk"], check=True, capture_output=True, timeout=300, env=env)
    except (subprocess.SubprocessError, OSError) as exc:
        log.append(f"installing wrk failed ({type(exc).__name__}): using the Python load generator")
        return None
    return shutil.which("wrk")


LUA = """\
local f = assert(io.open([[{body}]], "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(body_file: Path, headers: dict[str, str]) -> str:
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    return LUA.format(body=body_file, headers=lines)


def parse_wrk(output: str) -> LoadResult:
    for line in output.splitlines():
        if line.startswith("BENCH "):
            requests, duration_us, errors, non2xx, p50_us, p99_us = (int(x) for x in line.split()[1:])
            return LoadResult(requests, duration_us / 1e6, p50_us / 1000, p99_us / 1000, errors, non2xx, "wrk")
    raise RuntimeError(f"wrk printed no summary line:\n{output}")


def run_load(
    wrk: str | None, url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int = 32
) -> LoadResult:
    """Load `url` with POSTs of `body` for `seconds`; wrk -t1 when available."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        body_file = Path(tmp, "body")
        body_file.write_bytes(body)
        if wrk is not None:
            script = Path(tmp, "post.lua")
            script.write_text(lua_script(body_file, headers))
            cmd = [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
            return parse_wrk(out)
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.pyload",
            url,
            str(body_file),
            json.dumps(headers),
            str(seconds),
            str(connections),
        ]
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, timeout=seconds + 60, cwd=child_cwd(), env=child_env()
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
        return LoadResult(
            int(data["requests"]),
            data["seconds"],
            data["p50_ms"],
            data["p99_ms"],
            int(data["errors"]),
            int(data["non2xx"]),
            "python",
        )


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 120.0) -> tuple[int, bytes]:
    """One POST over a fresh connection; returns status and body."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
