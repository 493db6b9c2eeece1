"""Row 3: a 1 MiB and a 20 MiB image in JSON: time per request and the server's peak RSS growth.

Each size gets a fresh server process; its VmHWM (peak resident set) is read before and after the
first big request, so the growth is what one request cost at its peak, copies included.
"""

from __future__ import annotations

import statistics
import time

from .bodies import SAVE_PATH, Case, big_case, small_cases
from .loadgen import Target, post
from .table import Row, fmt_bytes, fmt_num, ratio

MIB = 1024 * 1024
SIZES = ((1 * MIB, 5), (20 * MIB, 3))  # image size, requests timed
MAX_RSS_RATIO = 3.0


def time_requests(target: Target, case: Case, count: int) -> tuple[list[float], int]:
    """Send `case` `count` times; return the seconds each took and the peak RSS growth of the first."""
    url = target.url(SAVE_PATH)
    warm = small_cases()[0]
    post(url, warm.body, warm.headers())
    before = target.status("VmHWM")
    times = []
    growth = 0
    for i in range(count):
        start = time.perf_counter()
        status, answer = post(url, case.body, case.headers())
        times.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"{target.kind} answered {status} to {case.name}: {answer[:300]!r}")
        if i == 0:
            growth = target.status("VmHWM") - before
    return times, growth


def run(notes: list[str]) -> list[Row]:
    rows: list[Row] = []
    for size, count in SIZES:
        case = big_case(size)
        with Target("fake") as fake:
            fake_times, growth = time_requests(fake, case, count)
        with Target("bare") as bare:
            bare_times, bare_growth = time_requests(bare, case, count)
        fake_ms = statistics.median(fake_times) * 1000
        bare_ms = statistics.median(bare_times) * 1000
        body = len(case.body)
        label = f"json {size // MIB} MiB image ({fmt_bytes(body)} body)"
        rows.append(Row(f"{label}: ms/request", fmt_num(fake_ms, 1), fmt_num(bare_ms, 1), ratio(fake_ms, bare_ms)))
        rows.append(
            Row(
                f"{label}: peak RSS growth",
                f"{fmt_bytes(growth)} = {growth / body:.2f}x body",
                f"{fmt_bytes(bare_growth)} = {bare_growth / body:.2f}x body",
                ratio(growth, bare_growth),
                f"<= {MAX_RSS_RATIO:.2f}x body",
                growth <= MAX_RSS_RATIO * body,
            )
        )
    notes.append(
        "big images: time is the median of 5 (1 MiB) or 3 (20 MiB) sequential requests; "
        "RSS growth is the VmHWM of a fresh server process around its first big request"
    )
    return rows
