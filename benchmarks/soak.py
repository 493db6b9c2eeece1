"""``make soak`` (``python -m benchmarks.soak``): a fake left running under mixed load, watched.

For each mode (in memory, then with ``--state``), `mockserver serve --tenants isolated` runs on
127.0.0.1 for ``--minutes`` (default 10) while a load generator in this process sends a bounded
number of concurrent requests: valid saves (a 1x1 GIF, sometimes a 30 KB picture of its own),
invalid ones (bad base64, a missing property) and oversized ones (past ``--max-body-size``), each
to one of ``--tenants`` prefixes or none. Every ``--interval`` seconds (default 10) it samples the
server's RSS and open file descriptors and the state's size on disk (the root file, its WAL and
the tenant files). With ``--state`` it ends by killing the server with SIGKILL, starting it again
on the same file, and checking every acknowledged id is still known (200, or 410 if the image
budget evicted it; never 404) and that each tenant's next id follows its last acknowledged one.

Writes ``benchmarks/soak.md`` (a table per mode and the verdicts) and ``benchmarks/soak.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .loadgen import ROOT, child_env
from .machine import describe
from .machine import load as machine_load
from .table import fmt_bytes

OUT = Path(__file__).resolve().parent
SAVE = "/api/v1/Agents/BLOB/SaveImageStream"
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HEADERS = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw"}
MAX_BODY = 256 * 1024  # the server's --max-body-size, so oversized bodies stay cheap to send
# Budgets the load fills within the first minute: the soak is about what happens once they are full.
SERVER_OPTIONS = [
    *("--tenants", "isolated", "--quiet", "--image-budget", "16M", "--journal-budget", "16M"),
    *("--max-body-size", str(MAX_BODY)),
]


@dataclass
class Sample:
    seconds: float
    rss: int
    fds: int
    disk: int
    wal: int  # of `disk`: the write-ahead logs (each open file's, bounded by its checkpoints)
    requests: int
    errors_5xx: int


@dataclass
class Run:
    mode: str
    samples: list[Sample] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    acknowledged: dict[str, list[int]] = field(default_factory=dict)  # tenant prefix → ids answered 200
    verdicts: list[str] = field(default_factory=list)


class Server:
    """`mockserver serve` in a child process on 127.0.0.1, its port read from the banner."""

    def __init__(self, state: Path | None) -> None:
        args = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", "0", *SERVER_OPTIONS]
        self.args = args + (["--state", str(state)] if state is not None else [])
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, cwd=ROOT, env=child_env())
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline().decode()
        if "listening on " not in banner:
            self.proc.kill()
            raise RuntimeError(f"mockserver serve did not start: {banner!r}")
        self.url = banner.split("listening on ", 1)[1].split()[0]

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


def disk_size(state: Path | None, pattern: str = "*") -> int:
    if state is None:
        return 0
    return sum(p.stat().st_size for p in state.parent.rglob(pattern) if p.is_file())


def body_for(kind: str, rng: random.Random) -> bytes:
    if kind == "valid":
        image = GIF if rng.random() < 0.9 else PNG + rng.randbytes(30_000)
        return json.dumps(
            {"Type": "PersonImage", "Image": base64.b64encode(image).decode(), "Description": "soak"}
        ).encode()
    if kind == "invalid":
        return rng.choice([b'{"Type": "PersonImage", "Image": "***"}', b'{"Image": "R0lGODlh"}', b"{not json"])
    return json.dumps({"Type": "PersonImage", "Image": "A" * (MAX_BODY + 1024)}).encode()


async def load(url: str, run: Run, tenants: list[str], until: float, workers: int, seed: int) -> None:
    """`workers` clients, each sending one request after another until `until` (monotonic)."""
    connector = aiohttp.TCPConnector(limit=workers)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def client(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            while time.monotonic() < until:
                kind = rng.choices(["valid", "invalid", "oversized"], [80, 17, 3])[0]
                prefix = rng.choice(tenants)
                try:
                    async with http.post(url + prefix + SAVE, data=body_for(kind, rng), headers=HEADERS) as resp:
                        text = await resp.read()
                        status = resp.status
                except (TimeoutError, aiohttp.ClientError):
                    status, text = 0, b""  # a closed connection (the oversized ones are hung up on)
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if status == 200:
                    run.acknowledged.setdefault(prefix, []).append(int(text))

        await asyncio.gather(*(client(n) for n in range(workers)))


async def sample(server: Server, state: Path | None, run: Run, start: float, until: float, interval: float) -> None:
    while True:
        counted = sum(run.statuses.values())
        errors = sum(n for status, n in run.statuses.items() if status >= 500)
        now = time.monotonic()
        disk, wal = disk_size(state), disk_size(state, "*-wal")
        run.samples.append(Sample(now - start, server.rss(), server.fds(), disk, wal, counted, errors))
        if now >= until:
            return
        await asyncio.sleep(min(interval, until - now))


async def check_after_kill(state: Path, run: Run) -> None:
    """SIGKILL the server (done by the caller), start it again, ask for every acknowledged id."""
    server = Server(state)
    lost, checked = 0, 0
    try:
        async with aiohttp.ClientSession() as http:
            for prefix, ids in run.acknowledged.items():
                for blob_id in ids:
                    async with http.get(f"{server.url}{prefix}/_images/{blob_id}") as resp:
                        lost += resp.status not in (200, 410)
                        checked += 1
                async with http.post(
                    server.url + prefix + SAVE, data=body_for("valid", random.Random(1)), headers=HEADERS
                ) as resp:
                    following = int(await resp.read()) if resp.status == 200 else -1
                if following != max(ids) + 1:
                    run.verdicts.append(f"tenant {prefix or '(root)'}: next id {following} after {max(ids)}")
    finally:
        server.stop()
    run.verdicts.append(f"after SIGKILL and restart: {checked:,} acknowledged ids asked for, {lost} lost")


def flat(run: Run, attribute: str, warm_up: float) -> str:
    after = [s for s in run.samples if s.seconds >= warm_up]
    if len(after) < 2:
        return "n/a"
    first, last = getattr(after[0], attribute), getattr(after[-1], attribute)
    change = (last - first) / first * 100 if first else 0.0
    show = str if attribute == "fds" else fmt_bytes
    return f"{show(first)} → {show(last)} ({change:+.1f}%)"


async def soak(mode: str, minutes: float, interval: float, tenants: int, workers: int, directory: Path) -> Run:
    state = directory / mode / "soak.sqlite" if mode == "state" else None
    if state is not None:
        state.parent.mkdir(parents=True)
    run = Run(mode)
    prefixes = ["", *(f"/Soak{n}" for n in range(1, tenants + 1))]
    server = Server(state)
    start = time.monotonic()
    until = start + minutes * 60
    try:
        await asyncio.gather(
            load(server.url, run, prefixes, until, workers, seed=7), sample(server, state, run, start, until, interval)
        )
    finally:
        server.stop(signal.SIGKILL if state is not None else signal.SIGTERM)
    if state is not None:
        await check_after_kill(state, run)
    warm_up = min(120.0, minutes * 60 / 5)
    run.verdicts.insert(0, f"RSS from minute {warm_up / 60:g} to the end: {flat(run, 'rss', warm_up)}")
    run.verdicts.insert(1, f"open fds from minute {warm_up / 60:g}: {flat(run, 'fds', warm_up)}")
    if state is not None:
        run.verdicts.insert(2, f"state on disk from minute {warm_up / 60:g}: {flat(run, 'disk', warm_up)}")
    fives = sum(n for status, n in run.statuses.items() if status >= 500)
    run.verdicts.append(f"answers: {dict(sorted(run.statuses.items()))} — {fives} 5xx")
    return run


def table(run: Run) -> str:
    rows = ["| s | RSS | fds | state on disk | of which WAL | requests | 5xx |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for s in run.samples:
        disk, wal = (fmt_bytes(s.disk), fmt_bytes(s.wal)) if run.mode == "state" else ("–", "–")
        rows.append(
            f"| {s.seconds:.0f} | {fmt_bytes(s.rss)} | {s.fds} | {disk} | {wal} | {s.requests:,} | {s.errors_5xx} |"
        )
    return "\n".join(rows)


def plot(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    for run in runs:
        minutes = [s.seconds / 60 for s in run.samples]
        axes[0].plot(minutes, [s.rss / 2**20 for s in run.samples], label=run.mode)
        axes[1].plot(minutes, [s.fds for s in run.samples], label=run.mode)
        if run.mode == "state":
            axes[2].plot(minutes, [s.disk / 2**20 for s in run.samples], label="all files")
            axes[2].plot(minutes, [s.wal / 2**20 for s in run.samples], label="of which WAL")
    for ax, title in zip(axes, ("RSS (MiB)", "open file descriptors", "state on disk (MiB)"), strict=True):
        ax.set_ylabel(title)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend()
    axes[2].set_xlabel("minutes")
    fig.suptitle("mockserver serve --tenants isolated under mixed load")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of each mode's run (default 10)")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    p.add_argument("--tenants", type=int, default=20, help="isolated tenants the load is spread over (default 20)")
    p.add_argument("--workers", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--modes", default="memory,state", help="comma-separated: memory, state (default both)")
    p.add_argument("--no-write", action="store_true", help="print only; do not write soak.md and soak.png")
    args = p.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        for mode in args.modes.split(","):
            print(f"soak: {mode}, {args.minutes:g} min …", flush=True)
            runs.append(asyncio.run(soak(mode, args.minutes, args.interval, args.tenants, args.workers, Path(tmp))))
            for verdict in runs[-1].verdicts:
                print(f"  {verdict}", flush=True)
    options = " ".join(SERVER_OPTIONS)
    text = [
        "# Soak",
        "",
        f"`make soak`: {args.minutes:g} minutes per mode, {args.workers} clients, {args.tenants} isolated tenants "
        f"and the root, `mockserver serve {options}`; 80% valid saves (a 1x1 GIF, one in ten a 30 KB picture "
        "of its own), 17% invalid, 3% oversized.",
        "",
        *(f"- {key}: {value}" for key, value in describe("aiohttp clients in the benchmark process")),
        f"- load average at the end: {machine_load()}",
    ]
    for run in runs:
        text += ["", f"## {run.mode}", "", *(f"- {v}" for v in run.verdicts), "", table(run)]
    output = "\n".join(text) + "\n"
    print(output)
    if not args.no_write:
        (OUT / "soak.md").write_text(output)
        plot(runs, OUT / "soak.png")
        print(f"wrote {OUT / 'soak.md'} and {OUT / 'soak.png'}")


if __name__ == "__main__":
    main()
