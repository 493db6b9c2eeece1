"""Memory of a `mockserver serve` process while many requests declare big bodies and send (almost) none.

``python -m benchmarks.held_bodies`` opens N connections (default 200), each sending the headers of a
SaveImageStream POST with ``Content-Length: 32 MiB`` and then nothing (or ``--send`` bytes of body),
and reads the server's VmRSS and VmHWM (peak) from /proc before, while the connections are held, and
after they are closed. A server that sizes its buffer by Content-Length reserves N x 32 MiB here;
one that grows it with what arrives holds next to nothing. ``--no-auth`` leaves the Authorization
header out (the request is refused before its body matters); ``BENCH_SRC`` measures another copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from .loadgen import STARTUP_TIMEOUT, child_cwd, child_env
from .machine import load

SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
BASIC = "Basic dGplMDpUamUw"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Memory:
    connections: int
    declared: int
    auth: bool
    sent: int
    rss_before: int
    hwm_before: int
    rss_held: int
    hwm_held: int
    rss_after: int

    @property
    def growth(self) -> int:
        return self.hwm_held - self.hwm_before


def status(pid: int, field: str) -> int:
    """A size field of /proc/<pid>/status (VmHWM, VmRSS) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


class Serve:
    """``python -m mockserver serve --port 0 --quiet`` in its own process, stopped on exit."""

    def __init__(self, *extra: str) -> None:
        self.args = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", *extra]
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Serve:
        env = {k: v for k, v in child_env().items() if not k.startswith("MOCKSERVER_")}
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, cwd=child_cwd(), env=env)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_TIMEOUT)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("mockserver listening on http://"):
            self.__exit__()
            raise RuntimeError(f"mockserver serve did not start: {line!r}")
        self.port = int(line.split()[3].rsplit(":", 1)[1])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
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

    def health(self) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_health", timeout=300) as resp:
            return dict(json.load(resp))


def head(declared: int, auth: bool) -> bytes:
    lines = [
        f"POST {SAVE_PATH} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {declared}",
        *([f"Authorization: {BASIC}"] if auth else []),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def hold(server: Serve, connections: int, declared: int, auth: bool, sent: int, settle: float) -> Memory:
    rss_before, hwm_before = status(server.pid, "VmRSS"), status(server.pid, "VmHWM")
    writers = []
    try:
        for _ in range(connections):
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(head(declared, auth) + b"{" * sent)
            writers.append(writer)
        for writer in writers:
            await writer.drain()
        # Once the server answers a later request it has read every head sent before it; `settle`
        # more seconds let any handler still working on one finish what it does with it.
        await asyncio.to_thread(server.health)
        await asyncio.sleep(settle)
        await asyncio.to_thread(server.health)
        rss_held, hwm_held = status(server.pid, "VmRSS"), status(server.pid, "VmHWM")
    finally:
        for writer in writers:
            writer.close()
    await asyncio.sleep(settle)
    await asyncio.to_thread(server.health)
    return Memory(
        connections, declared, auth, sent, rss_before, hwm_before, rss_held, hwm_held, status(server.pid, "VmRSS")
    )


def measure(
    connections: int = 200, declared: int = 32 * MIB, auth: bool = True, sent: int = 0, settle: float = 0.5
) -> Memory:
    """Start a server, hold `connections` requests open against it, and return what its memory did."""
    with Serve() as server:
        server.health()
        return asyncio.run(hold(server, connections, declared, auth, sent, settle))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.held_bodies", description=__doc__)
    p.add_argument("--connections", type=int, default=200)
    p.add_argument("--declared", type=int, default=32 * MIB, help="Content-Length each request declares")
    p.add_argument("--send", type=int, default=0, help="body bytes each request actually sends")
    p.add_argument("--no-auth", action="store_true", help="leave the Authorization header out")
    p.add_argument("--settle", type=float, default=0.5)
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = p.parse_args(argv)
    started = time.monotonic()
    m = measure(args.connections, args.declared, not args.no_auth, args.send, args.settle)
    if args.json:
        print(json.dumps({**asdict(m), "growth": m.growth, "load": load()}))
        return 0
    print(f"source: {os.environ.get('BENCH_SRC') or child_cwd()}")
    print(
        f"{m.connections} connections x Content-Length {m.declared / MIB:g} MiB, "
        f"{'with' if m.auth else 'without'} Authorization, {m.sent} body bytes sent each"
    )
    print(f"before:  VmRSS {m.rss_before / MIB:8.1f} MiB  VmHWM {m.hwm_before / MIB:8.1f} MiB")
    print(f"held:    VmRSS {m.rss_held / MIB:8.1f} MiB  VmHWM {m.hwm_held / MIB:8.1f} MiB")
    print(f"closed:  VmRSS {m.rss_after / MIB:8.1f} MiB")
    print(f"peak growth {m.growth / MIB:.1f} MiB; load average {load()}; {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
