"""Rows 1, 2 and 6: throughput and latency of small saves, the fake beside a bare aiohttp handler."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from .bodies import SAVE_PATH, Case, small_cases
from .loadgen import LoadResult, Target, post, run_load
from .table import Row, fmt_num, ratio

MIN_THROUGHPUT_RATIO = 0.7
MAX_P99_RATIO = 2.0


def load_one(wrk: str | None, kind: str, case: Case, seconds: float, warmup: float, *extra: str) -> LoadResult:
    """Start a fresh server, check it answers `case` as expected, warm it up, then measure."""
    with Target(kind, *extra) as target:
        url = target.url(SAVE_PATH)
        status, answer = post(url, case.body, case.headers())
        expected = case.expect_status if kind == "fake" else 200
        if status != expected:
            raise RuntimeError(
                f"{kind} answered {status} to the {case.name} request, expected {expected}: {answer[:300]!r}"
            )
        if warmup > 0:
            run_load(wrk, url, case.body, case.headers(), warmup)
        return run_load(wrk, url, case.body, case.headers(), seconds)


def case_rows(name: str, fake: LoadResult, bare: LoadResult, baseline_label: str = "bare") -> list[Row]:
    tput = fake.rps / bare.rps if bare.rps else 0.0
    p99 = fake.p99_ms / bare.p99_ms if bare.p99_ms else float("inf")
    return [
        Row(
            f"{name}: req/s",
            fmt_num(fake.rps),
            f"{fmt_num(bare.rps)} ({baseline_label})",
            ratio(fake.rps, bare.rps),
            f">= {MIN_THROUGHPUT_RATIO:.2f}x",
            tput >= MIN_THROUGHPUT_RATIO,
        ),
        Row(f"{name}: p50 ms", fmt_num(fake.p50_ms, 2), fmt_num(bare.p50_ms, 2), ratio(fake.p50_ms, bare.p50_ms)),
        Row(
            f"{name}: p99 ms",
            fmt_num(fake.p99_ms, 2),
            fmt_num(bare.p99_ms, 2),
            ratio(fake.p99_ms, bare.p99_ms),
            f"<= {MAX_P99_RATIO:.2f}x",
            p99 <= MAX_P99_RATIO,
        ),
    ]


def problems(name: str, kind: str, result: LoadResult) -> list[str]:
    if result.errors:
        return [f"{name} ({kind}): {result.errors} socket errors or timeouts during the run"]
    return []


def run(wrk: str | None, seconds: float, warmup: float, notes: list[str], only: set[str] | None = None) -> list[Row]:
    rows: list[Row] = []
    json_fake: LoadResult | None = None
    json_bare: LoadResult | None = None
    for case in small_cases():
        if only and case.name not in only:
            continue
        fake = load_one(wrk, "fake", case, seconds, warmup)
        bare = load_one(wrk, "bare", case, seconds, warmup)
        notes += problems(case.name, "fake", fake) + problems(case.name, "bare", bare)
        rows += case_rows(case.name, fake, bare)
        if case.name == "json":
            json_fake, json_bare = fake, bare
    if only and "state" not in only:
        return rows
    rows += state_rows(wrk, seconds, warmup, notes, json_fake, json_bare)
    return rows


def state_rows(
    wrk: str | None, seconds: float, warmup: float, notes: list[str], fake: LoadResult | None, bare: LoadResult | None
) -> list[Row]:
    """Row 6: the same JSON save with ``--state FILE`` (SQLite), beside the in-memory fake."""
    case = small_cases()[0]
    with tempfile.TemporaryDirectory(prefix="bench-state-") as tmp:
        persisted = load_one(wrk, "fake", case, seconds, warmup, "--state", str(Path(tmp, "state.sqlite")))
    notes += problems("json --state", "fake", persisted)
    rows = [
        Row(
            "json --state FILE: req/s",
            fmt_num(persisted.rps),
            f"{fmt_num(fake.rps)} (in-memory)" if fake else "",
            ratio(persisted.rps, fake.rps) if fake else "",
        ),
        Row(
            "json --state FILE: p99 ms",
            fmt_num(persisted.p99_ms, 2),
            f"{fmt_num(fake.p99_ms, 2)} (in-memory)" if fake else "",
            ratio(persisted.p99_ms, fake.p99_ms) if fake else "",
        ),
    ]
    if bare is not None:
        # The targets are for the default, in-memory fake; --state is a cost to report.
        rows += [replace(r, target="", met=None) for r in case_rows("json --state FILE vs bare", persisted, bare)[::2]]
    return rows
