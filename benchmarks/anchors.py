"""``python -m benchmarks.anchors`` (``make bench-anchors``): the fake beside WireMock and Prism.

One JSON save (the throughput rows' request: same body, same headers) loaded with the same load
generator (``wrk -t1 -c32``) in one run, against:

- the bare aiohttp handler (``benchmarks.targets bare``) and the fake (``mockserver serve --quiet``);
- WireMock standalone (the jar from the npm package ``wiremock``) with one stub for the call
  (200, ``application/json``, body ``1``), its request journal on (the default) and off
  (``--no-request-journal``);
- Prism (``@stoplight/prism-cli``, ``prism mock``) on the fake's own OpenAPI document
  (``mockserver openapi``);
- the bare handler and the fake again on uvloop (``--loop uvloop``), so that ratio compares like
  with like.

All the servers are started, and each is warmed up with runs of ``--settle-seconds`` until two
consecutive runs agree within ``--tolerance`` (10%) in req/s, at most ``--max-settle`` runs. Then
they are measured in ``--rounds`` interleaved rounds of ``--seconds`` each (the order reversed every
other round), so that a change in the machine's other load falls on every server alike; the table
gives medians over the rounds, and each ratio is taken within a round.

Everything listens on 127.0.0.1 only, and every process started is stopped at the end, also when
a step fails or the run is interrupted. npm packages go to ``benchmarks/out/npm`` (or
``$BENCH_NPM_PREFIX``); Java, Node and wrk come from Debian's packages when missing and we are root.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from . import machine
from .bodies import SAVE_PATH, small_cases
from .loadgen import LoadResult, child_cwd, child_env, ensure_wrk, post, run_load
from .table import fmt_bytes, fmt_num, format_grid

RESULTS = Path(__file__).with_name("RESULTS.md")
OUT = Path(__file__).with_name("out")
BEGIN, END = "<!-- bench:anchors -->", "<!-- /bench:anchors -->"
HEADING = "## Anchors: WireMock and Prism (`make bench-anchors`)"
HOST = "127.0.0.1"
START_TIMEOUT = 90.0  # a cold JVM or Node on a busy 2-core machine
STOP_TIMEOUT = 10.0

WIREMOCK = ("wiremock", "3.13.2")
PRISM = ("@stoplight/prism-cli", "5.16.0")
NPM_PACKAGES = (WIREMOCK, PRISM)

# The one stub WireMock serves: what the fake answers to the first save of a fresh fake.
WIREMOCK_STUB = {
    "request": {"method": "POST", "url": SAVE_PATH},
    "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": "1"},
}

SERVERS = ("bare", "fake", "wiremock", "wiremock-no-journal", "prism", "bare-uvloop", "fake-uvloop")
COLUMNS = (
    "server",
    "req/s (min-max)",
    "p50 ms",
    "p99 ms",
    "req/s vs bare (min-max)",
    "p99 vs bare (min-max)",
    "warm-up runs (req/s)",
    "peak RSS",
)


# ---- pure parts -------------------------------------------------------------------------------


def agree(a: float, b: float, tolerance: float) -> bool:
    """Two throughputs agree when they differ by at most `tolerance` of the larger (0 never agrees)."""
    top = max(a, b)
    return top > 0 and abs(a - b) <= tolerance * top


@dataclass
class Settling:
    """The warm-up runs' req/s, and whether the last two agreed before the cap."""

    runs: list[float] = field(default_factory=list)
    settled: bool = False

    def describe(self) -> str:
        seq = ", ".join(fmt_num(r) for r in self.runs)
        return f"{len(self.runs)}: {seq}" + ("" if self.settled else " (did not settle)")


def settle(measure: Callable[[], float], tolerance: float, cap: int) -> Settling:
    """Call `measure` until two consecutive results agree within `tolerance`, at most `cap` times."""
    out = Settling()
    while len(out.runs) < max(cap, 2):
        out.runs.append(measure())
        if len(out.runs) >= 2 and agree(out.runs[-2], out.runs[-1], tolerance):
            out.settled = True
            break
    return out


def port_in(text: str, pattern: str) -> int | None:
    """The first port `pattern` (one group) finds in a server's output, if it has printed it yet."""
    found = re.search(pattern, text, flags=re.M)
    return int(found.group(1)) if found else None


# What each server prints once it listens.
BARE_PORT = r"^PORT (\d+)$"
FAKE_PORT = r"listening on http://127\.0\.0\.1:(\d+)"
WIREMOCK_PORT = r"^port:\s+(\d+)\s*$"


def npm_missing(prefix: Path, packages: tuple[tuple[str, str], ...] = NPM_PACKAGES) -> list[str]:
    """`name@version` of each pinned package not installed under `prefix` at that version."""
    missing = []
    for name, version in packages:
        try:
            installed = json.loads(prefix.joinpath("node_modules", name, "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            installed = None
        if installed != version:
            missing.append(f"{name}@{version}")
    return missing


def place_section(current: str, block: str) -> str:
    """`current` RESULTS.md with the anchors block replaced, or its section added before "Latest run"."""
    wrapped = f"{BEGIN}\n{block}{END}"
    if BEGIN in current and END in current:
        return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: wrapped, current, count=1, flags=re.S)
    section = f"{HEADING}\n\n{wrapped}\n\n"
    marker = "\n## Latest run"
    if marker in current:
        at = current.index(marker) + 1
        return current[:at] + section + current[at:]
    return current.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"


@dataclass
class Measured:
    """One server's warm-up, its measured run in each round, and its peak RSS."""

    name: str
    settling: Settling
    baseline: str  # the name of the row its ratios are against (itself: none)
    rounds: list[LoadResult] = field(default_factory=list)
    peak_rss: int | None = None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _span(values: list[float], fmt: Callable[[float], str]) -> str:
    if len(values) < 2:
        return fmt(values[0]) if values else "n/a"
    return f"{fmt(median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def table(rows: list[Measured]) -> str:
    """Medians over the rounds; ratios are per round against the baseline's run of that round."""
    by_name = {r.name: r for r in rows}
    cells = []
    for r in rows:
        base = by_name.get(r.baseline)
        rps = [x.rps for x in r.rounds]
        pair = list(zip(r.rounds, base.rounds, strict=False)) if base is not None and base is not r else []
        tput = [a.rps / b.rps for a, b in pair if b.rps]
        p99 = [a.p99_ms / b.p99_ms for a, b in pair if b.p99_ms]
        cells.append(
            (
                r.name,
                _span(rps, fmt_num),
                fmt_num(median([x.p50_ms for x in r.rounds]), 2),
                fmt_num(median([x.p99_ms for x in r.rounds]), 2),
                _span(tput, lambda v: f"{v:.2f}x") if pair else "",
                _span(p99, lambda v: f"{v:.2f}x") if pair else "",
                r.settling.describe(),
                fmt_bytes(r.peak_rss) if r.peak_rss is not None else "n/a",
            )
        )
    return format_grid(COLUMNS, cells)


# ---- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM should this harness die without cleaning up (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """A server process in its own process group, logging to a file; stopped (group and all) on exit."""

    def __init__(
        self,
        key: str,
        name: str,
        argv: list[str],
        logs: Path,
        *,
        port: int | None = None,
        port_pattern: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name, self.argv, self.port = name, argv, port or 0
        self.port_pattern = port_pattern
        self.log = logs / f"{key}.log"
        self.cwd, self.env = cwd, env
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_for_port()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _wait_for_port(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()[-2000:]}")
            if self.port_pattern is not None and not self.port:
                self.port = port_in(self.output(), self.port_pattern) or 0
            if self.port:
                with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen within {START_TIMEOUT:.0f} s:\n{self.output()[-2000:]}")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def peak_rss(self) -> int | None:
        """VmHWM of the server's main process, in bytes."""
        if self.proc is None:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)  # the session we started: the server and anything it spawned
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Anything left in the group after its leader exited (a JVM's or Node's children).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


# ---- tools ---------------------------------------------------------------------------------------


def _apt_install(packages: list[str], notes: list[str], updated: list[bool]) -> bool:
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        notes.append(f"{' '.join(packages)}: missing, and apt-get cannot run here")
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        if not updated[0]:
            subprocess.run([apt, "update", "-qq"], check=True, capture_output=True, timeout=600, env=env)
            updated[0] = True
        subprocess.run([apt, "install", "-y", "-qq", *packages], check=True, capture_output=True, timeout=900, env=env)
    except (subprocess.SubprocessError, OSError) as exc:
        notes.append(f"installing {' '.join(packages)} failed ({type(exc).__name__})")
        return False
    return True


@dataclass
class Tools:
    wrk: str | None
    java: str | None = None
    node: str | None = None
    wiremock_jar: Path | None = None
    prism_js: Path | None = None
    versions: dict[str, str] = field(default_factory=dict)


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0].strip() if text else "unknown"


def npm_prefix() -> Path:
    return Path(os.environ.get("BENCH_NPM_PREFIX") or OUT / "npm")


def ensure_tools(notes: list[str], want_npm: bool) -> Tools:
    tools = Tools(wrk=ensure_wrk(notes))
    if not want_npm:
        return tools
    updated = [False]
    java = shutil.which("java")
    if java is None and _apt_install(["default-jre-headless"], notes, updated):
        java = shutil.which("java")
    node, npm = shutil.which("node"), shutil.which("npm")
    if (node is None or npm is None) and _apt_install(["nodejs", "npm"], notes, updated):
        node, npm = shutil.which("node"), shutil.which("npm")
    tools.java, tools.node = java, node
    prefix = npm_prefix()
    missing = npm_missing(prefix)
    if missing and npm is not None:
        prefix.mkdir(parents=True, exist_ok=True)
        print(f"npm install --prefix {prefix} {' '.join(missing)} ...", flush=True)
        # --ignore-scripts: neither package needs an install script (one dependency's only reports usage).
        argv = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--ignore-scripts"]
        argv += [f"{n}@{v}" for n, v in NPM_PACKAGES]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            notes.append(f"npm install failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        missing = npm_missing(prefix)
    if missing:
        notes.append(f"not installed: {', '.join(missing)}")
    if f"{WIREMOCK[0]}@{WIREMOCK[1]}" not in missing:
        jars = sorted(prefix.joinpath("node_modules", "wiremock", "build").glob("wiremock-standalone-*.jar"))
        tools.wiremock_jar = jars[0] if jars else None
    if f"{PRISM[0]}@{PRISM[1]}" not in missing:
        tools.prism_js = prefix / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
    if java:
        tools.versions["java"] = _version([java, "-version"])
    if node:
        tools.versions["node"] = _version([node, "--version"])
    tools.versions["WireMock"] = WIREMOCK[1]
    tools.versions["Prism"] = PRISM[1]
    return tools


def _uvloop_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uvloop")
    except PackageNotFoundError:
        return None


# ---- the run ------------------------------------------------------------------------------------


def server_for(name: str, tools: Tools, work: Path) -> Server:
    logs = work / "logs"
    py_env = child_env()
    if name in ("bare", "bare-uvloop"):
        loop = "uvloop" if name.endswith("uvloop") else "asyncio"
        argv = [sys.executable, "-m", "benchmarks.targets", "bare", "--loop", loop]
        return Server(name, _label(name), argv, logs, port_pattern=BARE_PORT, cwd=child_cwd(), env=py_env)
    if name in ("fake", "fake-uvloop"):
        loop = "uvloop" if name.endswith("uvloop") else "asyncio"
        argv = [sys.executable, "-m", "mockserver", "serve", "--quiet", "--host", HOST, "--port", "0", "--loop", loop]
        return Server(name, _label(name), argv, logs, port_pattern=FAKE_PORT, cwd=child_cwd(), env=py_env)
    if name in ("wiremock", "wiremock-no-journal"):
        if tools.java is None or tools.wiremock_jar is None:
            raise RuntimeError("WireMock needs java and the npm package wiremock")
        root = work / "wiremock"
        root.joinpath("mappings").mkdir(parents=True, exist_ok=True)
        root.joinpath("mappings", "save-image-stream.json").write_text(json.dumps(WIREMOCK_STUB, indent=2))
        argv = [tools.java, "-jar", str(tools.wiremock_jar), "--bind-address", HOST, "--port", "0"]
        argv += ["--root-dir", str(root), "--disable-banner"]
        if name == "wiremock-no-journal":
            argv.append("--no-request-journal")
        return Server(name, _label(name), argv, logs, port_pattern=WIREMOCK_PORT)
    if name == "prism":
        if tools.node is None or tools.prism_js is None:
            raise RuntimeError("Prism needs node and the npm package @stoplight/prism-cli")
        spec = work / "openapi.json"
        spec.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "mockserver", "openapi", "--out", str(spec)],
            capture_output=True,
            cwd=child_cwd(),
            env=py_env,
            timeout=120,
            check=True,
        )
        port = free_port()
        argv = [tools.node, str(tools.prism_js), "mock", "-h", HOST, "-p", str(port), "-v", "warn", str(spec)]
        return Server(name, _label(name), argv, logs, port=port)
    raise ValueError(name)


def _label(name: str) -> str:
    return {
        "bare": "bare aiohttp handler",
        "fake": "mockserver serve --quiet",
        "wiremock": "WireMock, request journal on",
        "wiremock-no-journal": "WireMock --no-request-journal",
        "prism": "Prism mock (fake's OpenAPI)",
        "bare-uvloop": "bare aiohttp handler, uvloop",
        "fake-uvloop": "mockserver serve --quiet --loop uvloop",
    }[name]


def _baseline(name: str) -> str:
    return _label("bare-uvloop") if name.endswith("uvloop") else _label("bare")


def _errors(server: Server, rounds: list[LoadResult]) -> list[str]:
    errors, non2xx = sum(r.errors for r in rounds), sum(r.non2xx for r in rounds)
    if errors or non2xx:
        return [f"{server.name}: {errors} socket errors or timeouts, {non2xx} non-2xx answers over the rounds"]
    return []


def _rps(wrk: str | None, url: str, body: bytes, headers: dict[str, str], seconds: float) -> float:
    return run_load(wrk, url, body, headers, seconds).rps


def measure(
    names: list[str], tools: Tools, work: Path, args: argparse.Namespace, notes: list[str]
) -> tuple[list[Measured], list[str]]:
    """Start and warm up each server, then measure them all in interleaved rounds.

    Returns the rows of the servers measured and the names of those that failed.
    """
    case = small_cases()[0]  # the JSON save, as in the throughput rows
    headers = case.headers()
    failed: list[str] = []
    live: dict[str, tuple[Server, Measured]] = {}
    with contextlib.ExitStack() as stack:
        for name in names:
            print(f"starting and warming up {_label(name)} ...", flush=True)
            try:
                server = stack.enter_context(server_for(name, tools, work))
                url = server.url(SAVE_PATH)
                status, answer = post(url, case.body, headers)
                if status != 200:
                    raise RuntimeError(f"answered {status} to the save, expected 200: {answer[:300]!r}")
                warm_up = functools.partial(_rps, tools.wrk, url, case.body, headers, args.settle_seconds)
                settling = settle(warm_up, args.tolerance, args.max_settle)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                failed.append(name)
                notes.append(f"{_label(name)}: failed: {str(exc).strip()[:500]}")
                print(f"  failed: {exc}", flush=True)
                continue
            print(f"  warm-up runs {settling.describe()}", flush=True)
            if not settling.settled:
                notes.append(
                    f"{server.name}: the warm-up runs did not agree within {args.tolerance:.0%} in {len(settling.runs)}"
                )
            live[name] = (server, Measured(server.name, settling, _baseline(name)))
        for i in range(args.rounds):
            order = list(live) if i % 2 == 0 else list(reversed(live))  # alternate, so no server is always first
            print(f"round {i + 1} of {args.rounds}: {', '.join(order)}", flush=True)
            for name in order:
                server, row = live[name]
                try:
                    result = run_load(tools.wrk, server.url(SAVE_PATH), case.body, headers, args.seconds)
                    row.rounds.append(result)
                    print(f"  {name}: {fmt_num(result.rps)} req/s, p99 {fmt_num(result.p99_ms, 2)} ms", flush=True)
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    failed.append(name)
                    notes.append(f"{server.name}: failed in round {i + 1}: {str(exc).strip()[:500]}")
                    server.stop()
                    del live[name]
        for server, row in live.values():
            row.peak_rss = server.peak_rss()
            notes += _errors(server, row.rounds)
    return [row for _, row in live.values()], failed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.anchors", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=5.0, help="each measured run (default 5 s)")
    p.add_argument("--rounds", type=int, default=3, help="measured runs per server, interleaved (default 3)")
    p.add_argument("--settle-seconds", type=float, default=5.0, help="each warm-up run (default 5 s)")
    p.add_argument("--max-settle", type=int, default=12, help="warm-up runs at most (default 12)")
    p.add_argument("--tolerance", type=float, default=0.10, help="warm-up runs agree within this (default 0.10)")
    p.add_argument("--only", action="append", choices=SERVERS, help="run only these servers (repeatable)")
    p.add_argument("--quick", action="store_true", help="2 s runs, at most 4 warm-up runs, 2 rounds: a smoke run")
    p.add_argument("--no-write", action="store_true", help=f"print only; do not update {RESULTS.name}")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.settle_seconds, args.max_settle, args.rounds = 2.0, 2.0, 4, 2
    return args


def _raise_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def render(
    info: list[tuple[str, str]], rows: list[Measured], notes: list[str], started: float, load_before: str
) -> str:
    lines = [f"- {k}: {v}" for k, v in info]
    lines.append(f"- load average at the start: {load_before}; at the end: {machine.load()}")
    lines.append(f"- the run took {time.monotonic() - started:.0f} s")
    out = "\n".join(lines) + "\n\n" + table(rows) + "\n"
    if notes:
        out += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return out


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C does, so every `with Server` stops its process."""
    old = {sig: signal.signal(sig, _raise_on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = machine.load()
    notes: list[str] = []
    names = [n for n in SERVERS if not args.only or n in args.only]
    uvloop_version = _uvloop_version()
    if uvloop_version is None and any(n.endswith("uvloop") for n in names):
        notes.append("uvloop is not installed (pip install 'mockserver[speed]'): the uvloop rows are left out")
        names = [n for n in names if not n.endswith("uvloop")]
    work = OUT / "anchors"
    with signals_raise():
        tools = ensure_tools(notes, want_npm=any(n.startswith(("wiremock", "prism")) for n in names))
        tool = f"wrk -t1 -c32 ({tools.wrk})" if tools.wrk else "Python load generator (32 connections, own process)"
        print(f"load tool: {tool}; load average {machine.load()}", flush=True)
        rows, failed = measure(names, tools, work, args, notes)
    info = machine.describe(
        f"wrk -t1 -c32 -d{args.seconds:g}s x {args.rounds} interleaved rounds, after warm-up runs of "
        f"{args.settle_seconds:g}s ({tools.wrk})"
        if tools.wrk
        else tool
    )
    info.append(("servers", ", ".join(f"{k} {v}" for k, v in tools.versions.items()) or "Python only"))
    if uvloop_version:
        info.append(("uvloop", uvloop_version))
    text = render(info, rows, notes, started, load_before)
    print("\n" + text)
    if failed:
        print(f"not written to {RESULTS.name}: {', '.join(failed)} failed")
        return 1
    if not args.no_write:
        RESULTS.write_text(place_section(RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n", text))
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
