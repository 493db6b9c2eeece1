"""The benchmark modules import and their pure helpers work (no timing is asserted here)."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import bigbody, fixtures, journal_mem, serve_log, throughput
from benchmarks.bodies import PNG_SIGNATURE, SAVE_PATH, big_image, small_cases
from benchmarks.loadgen import lua_script, parse_wrk, post
from benchmarks.table import Row, fmt_bytes, format_table, ratio


def test_table_lines_up_and_marks_missed_targets():
    rows = [Row("json: req/s", "9,000", "20,000 (bare)", "0.45x", ">= 0.70x", False), Row("note", "x")]
    lines = format_table(rows).splitlines()
    assert len(lines) == 4
    assert len({len(line) for line in lines}) == 1
    assert lines[2].rstrip(" |").endswith("NO")
    assert "| note" in lines[3]


def test_number_helpers():
    assert fmt_bytes(3 * 1024 * 1024) == "3.0 MiB"
    assert fmt_bytes(1536) == "1.5 KiB"
    assert ratio(1, 4) == "0.25x"
    assert ratio(1, 0) == "n/a"


def test_wrk_summary_line_is_parsed():
    result = parse_wrk("Running 10s test\nBENCH 1000 2000000 1 2 1500 9000\n")
    assert (result.requests, result.errors, result.non2xx) == (1000, 1, 2)
    assert result.rps == 500
    assert (result.p50_ms, result.p99_ms) == (1.5, 9.0)


def test_lua_script_posts_the_body_file_with_headers():
    script = lua_script(Path("/tmp/body"), {"Content-Type": "application/json"})
    assert 'wrk.method = "POST"' in script
    assert "[[/tmp/body]]" in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script


def test_cases_and_big_images():
    names = [c.name for c in small_cases()]
    assert names == ["json", "xml", "form", "bad base64"]
    image = big_image(4096)
    assert len(image) == 4096 and image.startswith(PNG_SIGNATURE)
    assert throughput.MIN_THROUGHPUT_RATIO == 0.7
    assert bigbody.MAX_RSS_RATIO == 3.0
    assert fixtures.COUNT == 200
    assert journal_mem.MAX_RECORD_BYTES == 2048


def test_the_serve_log_benchmark_starts_serve_and_counts_its_lines():
    case = small_cases()[0]
    with serve_log.Served() as served:
        for _ in range(3):
            status, _answer = post(f"http://127.0.0.1:{served.port}{SAVE_PATH}", case.body, case.headers())
            assert status == 200
        for _ in range(100):  # the lines are flushed within 0.1 s
            if served.lines() >= 3 + 1:
                break
            time.sleep(0.05)
        assert "#3 POST" in served.output.read_text()
        assert served.cpu_seconds() > 0
    alone, logged = serve_log.in_process(calls=50, repeats=1)
    assert alone > 0 and logged > 0
