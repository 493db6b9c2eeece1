"""``python -m benchmarks`` (``make bench``): run every benchmark, print one table, update RESULTS.md."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import bigbody, fixtures, journal_mem, machine, serve_log, throughput
from .loadgen import ensure_wrk
from .table import Row, format_table

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"
SECTIONS = ("throughput", "serve-log", "big", "fixtures", "journal")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--seconds", type=float, default=10.0, help="length of each load run (default 10, as wrk -d10s)")
    p.add_argument("--warmup", type=float, default=1.0, help="load before each measured run (default 1 s)")
    p.add_argument("--saves", type=int, default=100_000, help="small saves for the journal row (default 100,000)")
    p.add_argument("--quick", action="store_true", help="2 s runs and 10,000 saves: a smoke run, numbers are rough")
    p.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections (repeatable)")
    p.add_argument("--cases", help="comma-separated throughput cases: json,xml,form,bad base64,state")
    p.add_argument("--no-write", action="store_true", help=f"print only; do not update {RESULTS.name}")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.saves = 2.0, 0.5, 10_000
    return args


def render(info: list[tuple[str, str]], rows: list[Row], notes: list[str], started: float) -> str:
    lines = [f"- {k}: {v}" for k, v in info]
    lines.append(f"- load average at the end: {machine.load()}; the run took {time.monotonic() - started:.0f} s")
    out = "\n".join(lines) + "\n\n" + format_table(rows) + "\n"
    if notes:
        out += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return out


def write_results(text: str) -> None:
    block = f"{BEGIN}\n{text}{END}"
    current = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n## Latest run\n\n{BEGIN}\n{END}\n"
    if BEGIN in current and END in current:
        current = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, current, count=1, flags=re.S)
    else:
        current += f"\n## Latest run\n\n{block}\n"
    RESULTS.write_text(current)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    notes: list[str] = []
    wrk = ensure_wrk(notes)
    tool = f"wrk -t1 -c32 -d{args.seconds:g}s ({wrk})" if wrk else "Python load generator (32 connections, own process)"
    print(f"load tool: {tool}; load average {machine.load()}", flush=True)
    only = set(args.only or SECTIONS)
    cases = {c.strip() for c in args.cases.split(",")} if args.cases else None
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("throughput", lambda: throughput.run(wrk, args.seconds, args.warmup, notes, cases)),
        ("serve-log", lambda: serve_log.run(wrk, args.seconds, args.warmup, notes)),
        ("big", lambda: bigbody.run(notes)),
        ("fixtures", lambda: fixtures.run(notes)),
        ("journal", lambda: journal_mem.run(notes, args.saves)),
    ]
    rows: list[Row] = []
    for name, step in steps:
        if name not in only:
            continue
        print(f"running {name} ...", flush=True)
        new = step()
        print(format_table(new), flush=True)
        rows += new
    text = render(machine.describe(tool), rows, notes, started)
    print("\n" + text)
    if not args.no_write:
        write_results(text)
        print(f"written to {RESULTS}")
    missed = [r.name for r in rows if r.met is False]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
