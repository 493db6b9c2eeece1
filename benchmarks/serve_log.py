"""The log line's cost: `mockserver serve` as it runs by default (a line per call) beside ``--quiet``.

Both are the real command in its own process, its output going to a file as a container's
would to its log; the JSON save, loaded alternately (quiet, logging, quiet, logging) so a
change in the machine's load falls on both alike. The target: logging keeps 90% of quiet's
throughput. Beside it, the server's own CPU time per call (from /proc), which other work on a
shared machine disturbs far less than requests per second: a call costing 1/0.9 of quiet's
CPU time or less is the same target, measured more steadily.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from mockserver import Fake, RawRequest
from mockserver.http.app import log_call, set_line_sink
from mockserver.tools.logs import BatchedHandler

from .bodies import SAVE_PATH, small_cases
from .loadgen import LoadResult, child_cwd, child_env, post, run_load
from .table import Row, fmt_num, ratio

MIN_LOG_RATIO = 0.9
CALLS, REPEATS = 2000, 7  # the in-process measure: best of REPEATS runs of CALLS calls
ROUNDS = 2
STARTUP_TIMEOUT = 30.0


class Served:
    """``mockserver serve --port 0`` (plus `extra`), its output in a file; the port read from its banner."""

    def __init__(self, *extra: str) -> None:
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._dir = tempfile.TemporaryDirectory(prefix="bench-serve-")
        self.output = Path(self._dir.name, "serve.log")

    def __enter__(self) -> Served:
        args = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", "0", *self.extra]
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=child_cwd(), env=child_env())
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            first = self.output.read_text(errors="replace").partition("\n")[0]
            if first.startswith("mockserver listening on http://"):
                self.port = int(first.split()[3].rsplit(":", 1)[1])
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mockserver serve did not start: {self.output.read_text(errors='replace')[:300]!r}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None
        self._dir.cleanup()

    def lines(self) -> int:
        return len(self.output.read_bytes().splitlines())

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (Linux /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_serve(wrk: str | None, quiet: bool, seconds: float, warmup: float) -> tuple[LoadResult, int, float]:
    """One run: a fresh `serve`, checked, warmed up, measured; the result, its lines, its CPU us per call."""
    case = small_cases()[0]
    with Served(*(["--quiet"] if quiet else [])) as served:
        url = f"http://127.0.0.1:{served.port}{SAVE_PATH}"
        status, answer = post(url, case.body, case.headers())
        if status != 200:
            raise RuntimeError(f"serve answered {status} to the json save: {answer[:300]!r}")
        if warmup > 0:
            run_load(wrk, url, case.body, case.headers(), warmup)
        cpu = served.cpu_seconds()
        result = run_load(wrk, url, case.body, case.headers(), seconds)
        time.sleep(0.2)  # lines written after the last answer still count
        per_call = (served.cpu_seconds() - cpu) / result.requests * 1e6 if result.requests else float("nan")
        return result, served.lines(), per_call


def in_process(calls: int = CALLS, repeats: int = REPEATS) -> tuple[float, float]:
    """Best-of us per JSON save in `Fake.process` alone and with its log line (as serve writes it, to /dev/null).

    Timing the best of several runs leaves out most of what other work on the machine adds; it
    is the core's cost without the HTTP shell's, so the ratio is a bound the served fake stays under.
    """
    fake = Fake()
    case = small_cases()[0]
    raw = RawRequest.build("POST", SAVE_PATH, headers=case.headers(), body=case.body)
    logger = logging.getLogger("mockserver")
    with open(os.devnull, "w") as sink:
        handler = BatchedHandler(sink)
        handler.setFormatter(logging.Formatter("%(message)s"))
        saved = logger.handlers[:], logger.level, logger.propagate
        logger.handlers, logger.propagate = [handler], False
        logger.setLevel(logging.INFO)
        set_line_sink(handler.write_line)  # as `mockserver serve` has it
        try:
            best = {False: float("inf"), True: float("inf")}
            for _ in range(repeats):
                for logged in (False, True):
                    fake.reset()
                    started = time.perf_counter()
                    for _ in range(calls):
                        outcome = fake.process(raw)
                        if logged:
                            log_call(outcome)
                    best[logged] = min(best[logged], (time.perf_counter() - started) / calls * 1e6)
        finally:
            set_line_sink(None)
            logger.handlers, logger.level, logger.propagate = saved
    return best[False], best[True]


def run(wrk: str | None, seconds: float, warmup: float, notes: list[str]) -> list[Row]:
    quiet: list[LoadResult] = []
    logging: list[LoadResult] = []
    quiet_cpu: list[float] = []
    logging_cpu: list[float] = []
    written = 0
    for _ in range(ROUNDS):
        result, _lines, cpu = load_serve(wrk, True, seconds, warmup)
        quiet.append(result)
        quiet_cpu.append(cpu)
        result, written, cpu = load_serve(wrk, False, seconds, warmup)
        logging.append(result)
        logging_cpu.append(cpu)
    q_cpu, l_cpu = sum(quiet_cpu) / ROUNDS, sum(logging_cpu) / ROUNDS
    q_rps = sum(r.rps for r in quiet) / len(quiet)
    l_rps = sum(r.rps for r in logging) / len(logging)
    last = logging[-1]
    if written < last.requests:  # the banner and a line per call, warm-up included
        notes.append(f"serve log: {written} lines for {last.requests} measured calls: lines were lost")
    for name, results in (("quiet", quiet), ("logging", logging)):
        if any(r.errors for r in results):
            notes.append(f"serve {name}: socket errors or timeouts during a run")
    rounds = ", ".join(f"{fmt_num(q.rps)}/{fmt_num(lg.rps)}" for q, lg in zip(quiet, logging, strict=True))
    notes.append(f"serve log rounds (quiet/logging req/s): {rounds}")
    alone, logged = in_process()
    return [
        Row(
            "log line, in process: us per save",
            fmt_num(logged, 1),
            f"{fmt_num(alone, 1)} (no line)",
            ratio(logged, alone),
            f"<= {1 / MIN_LOG_RATIO:.2f}x",
            logged <= alone / MIN_LOG_RATIO,
        ),
        Row(
            "serve, log line per call: req/s",
            fmt_num(l_rps),
            f"{fmt_num(q_rps)} (--quiet)",
            ratio(l_rps, q_rps),
            f">= {MIN_LOG_RATIO:.2f}x",
            l_rps >= MIN_LOG_RATIO * q_rps,
        ),
        Row(
            "serve, log line per call: CPU us per call",
            fmt_num(l_cpu, 1),
            f"{fmt_num(q_cpu, 1)} (--quiet)",
            ratio(l_cpu, q_cpu),
            f"<= {1 / MIN_LOG_RATIO:.2f}x",
            l_cpu <= q_cpu / MIN_LOG_RATIO,
        ),
        Row(
            "serve, log line per call: p99 ms",
            fmt_num(sum(r.p99_ms for r in logging) / len(logging), 2),
            fmt_num(sum(r.p99_ms for r in quiet) / len(quiet), 2),
            ratio(sum(r.p99_ms for r in logging), sum(r.p99_ms for r in quiet)),
        ),
    ]
