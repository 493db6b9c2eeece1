"""The anchors benchmark's pure helpers and its process handling (no server is loaded, nothing is timed)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from benchmarks import anchors
from benchmarks.anchors import (
    BARE_PORT,
    BEGIN,
    END,
    FAKE_PORT,
    WIREMOCK_PORT,
    Measured,
    Server,
    Settling,
    agree,
    npm_missing,
    place_section,
    port_in,
    settle,
)
from benchmarks.loadgen import LoadResult
from benchmarks.table import format_grid


def test_agreement_is_relative_to_the_larger_run():
    assert agree(1000, 1100, 0.10)
    assert agree(1100, 1000, 0.10)
    assert not agree(1000, 1120, 0.10)
    assert not agree(0, 0, 0.10)


def test_settle_stops_at_the_first_agreeing_pair():
    runs = iter([300.0, 700.0, 1100.0, 1150.0, 5.0])
    got = settle(lambda: next(runs), 0.10, 12)
    assert got.runs == [300, 700, 1100, 1150] and got.settled
    assert got.describe() == "4: 300, 700, 1,100, 1,150"


def test_settle_gives_up_at_the_cap_and_says_so():
    runs = iter([100.0, 200.0, 400.0, 800.0])
    got = settle(lambda: next(runs), 0.10, 3)
    assert got.runs == [100, 200, 400] and not got.settled
    assert got.describe().endswith("(did not settle)")
    assert len(settle(lambda: 1.0, 0.10, 1).runs) == 2  # never fewer than two runs to compare


def test_ports_are_read_from_each_servers_output():
    assert port_in("PORT 41234\n", BARE_PORT) == 41234
    line = "mockserver listening on http://127.0.0.1:38001 (onsite; POST /api/v1/Agents/BLOB/SaveImageStream)\n"
    assert port_in(line, FAKE_PORT) == 38001
    banner = "The WireMock server is started .....\nversion:        3.13.2\nport:           38841\n"
    assert port_in(banner, WIREMOCK_PORT) == 38841
    assert port_in("The WireMock server is start", WIREMOCK_PORT) is None


def test_wiremock_stub_answers_the_call_as_a_fresh_fake_does():
    assert anchors.WIREMOCK_STUB["request"] == {"method": "POST", "url": "/api/v1/Agents/BLOB/SaveImageStream"}
    assert anchors.WIREMOCK_STUB["response"] == {
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": "1",
    }


def test_npm_packages_count_only_at_the_pinned_version(tmp_path: Path):
    pinned = (("wiremock", "3.13.2"), ("@stoplight/prism-cli", "5.16.0"))
    assert npm_missing(tmp_path, pinned) == ["wiremock@3.13.2", "@stoplight/prism-cli@5.16.0"]
    for name, version in (("wiremock", "3.13.2"), ("@stoplight/prism-cli", "5.0.0")):
        folder = tmp_path / "node_modules" / name
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(json.dumps({"name": name, "version": version}))
    assert npm_missing(tmp_path, pinned) == ["@stoplight/prism-cli@5.16.0"]


def test_the_section_goes_before_latest_run_then_is_replaced_in_place():
    notes = "# Benchmark results\n\nnotes\n\n## Latest run\n\n<!-- bench:latest -->\nx\n<!-- /bench:latest -->\n"
    first = place_section(notes, "table one\n")
    assert first.index(anchors.HEADING) < first.index("## Latest run")
    assert f"{BEGIN}\ntable one\n{END}" in first
    edited = first.replace(anchors.HEADING + "\n", anchors.HEADING + "\n\nkept prose\n")
    second = place_section(edited, "table two\n")
    assert "table one" not in second and f"{BEGIN}\ntable two\n{END}" in second
    assert "kept prose" in second and second.count(anchors.HEADING) == 1
    assert second.endswith("<!-- /bench:latest -->\n")
    assert place_section("# Benchmark results\n", "t\n").endswith(f"{BEGIN}\nt\n{END}\n")


def test_table_gives_medians_and_per_round_ratios_against_its_own_baseline():
    def row(name: str, rps: list[float], p99: list[float], baseline: str) -> Measured:
        rounds = [LoadResult(int(r * 10), 10.0, 1.0, p, 0, 0, "wrk") for r, p in zip(rps, p99, strict=True)]
        return Measured(name, Settling([rps[0], rps[0]], True), baseline, rounds, 50 * 1024 * 1024)

    text = anchors.table(
        [
            row("bare", [20000, 10000, 16000], [2.0, 4.0, 2.0], "bare"),
            row("fake", [10000, 6000, 8000], [4.0, 6.0, 4.0], "bare"),
            row("other", [5000], [8.0], "nothing"),
        ]
    )
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    fake = [c.strip() for c in lines[3].split("|")[1:-1]]
    # round ratios 0.50, 0.60, 0.50: the median and range; not the ratio of medians (8,000 / 16,000)
    assert fake[1:6] == ["8,000 (6,000-10,000)", "1.00", "4.00", "0.50x (0.50x-0.60x)", "2.00x (1.50x-2.00x)"]
    assert fake[7] == "50.0 MiB"
    bare, other = ([c.strip() for c in lines[i].split("|")[1:-1]] for i in (2, 4))
    assert bare[4] == bare[5] == other[4] == "" and other[1] == "5,000"
    assert format_grid(("a", "b"), [("1", "22")]).splitlines()[2] == "| 1 | 22 |"


# A server that listens, starts a grandchild in its group, and ignores SIGTERM: stop() must still end both.
STUBBORN = """
import os, signal, socket, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print("CHILD", child.pid, flush=True)
print("PORT", s.getsockname()[1], flush=True)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it has ended all the same.
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def test_server_stops_its_whole_group_even_when_it_ignores_sigterm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(anchors, "STOP_TIMEOUT", 0.5)
    with Server("stub", "stub", [sys.executable, "-c", STUBBORN], tmp_path, port_pattern=BARE_PORT) as server:
        assert server.port > 0
        child = int(server.output().split("CHILD ")[1].split()[0])
        leader = server.proc.pid if server.proc else 0
    deadline = time.monotonic() + 5
    while not (_gone(child) and _gone(leader)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child) and _gone(leader)


def test_server_that_exits_before_listening_is_reported_with_its_output(tmp_path: Path):
    argv = [sys.executable, "-c", "print('no stub here'); raise SystemExit(3)"]
    with pytest.raises(RuntimeError, match=r"(?s)exited with 3.*no stub here"):
        Server("gone", "gone", argv, tmp_path, port_pattern=BARE_PORT).__enter__()


def test_sigterm_unwinds_so_servers_are_stopped():
    with pytest.raises(SystemExit) as info, anchors.signals_raise():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    assert info.value.code == 128 + signal.SIGTERM
