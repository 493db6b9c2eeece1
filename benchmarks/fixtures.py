"""Row 4: what a fresh fake per test costs, from pytest runs of 200 generated tests."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .loadgen import child_env
from .table import Row, fmt_num

COUNT = 200
MAX_MS_PER_TEST = 5.0
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
HEAD = f"import pytest\n\nN = {COUNT}\n\n"
FILES = {
    "empty": HEAD + "@pytest.mark.parametrize('i', range(N))\ndef test_empty(i):\n    assert i < N\n",
    "fake": HEAD
    + "@pytest.mark.parametrize('i', range(N))\n"
    + "def test_fake(i, superoffice_fake):\n    assert superoffice_fake.port\n",
    "empty_async": HEAD + "@pytest.mark.parametrize('i', range(N))\nasync def test_empty(i):\n    assert i < N\n",
    "fake_async": HEAD
    + "@pytest.mark.parametrize('i', range(N))\n"
    + "async def test_fake(i, superoffice_fake_async):\n    assert superoffice_fake_async.port\n",
}


def pytest_seconds(folder: Path, name: str) -> float:
    """Wall time of one pytest run of one generated file (startup included; it cancels out)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_{name}.py"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, env=child_env(), capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or f"{COUNT} passed" not in proc.stdout:
        raise RuntimeError(f"pytest run of {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def run(notes: list[str], repeats: int = 3) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-fixtures-") as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text(INI)
        for name, text in FILES.items():
            (folder / f"test_{name}.py").write_text(text)
        # Interleaved rounds, best of each: other load on the machine hits both sides alike.
        seconds = dict.fromkeys(FILES, float("inf"))
        for _ in range(repeats):
            for name in FILES:
                seconds[name] = min(seconds[name], pytest_seconds(folder, name))
    for fixture, fake, empty in (
        ("superoffice_fake", "fake", "empty"),
        ("superoffice_fake_async", "fake_async", "empty_async"),
    ):
        per_test = (seconds[fake] - seconds[empty]) / COUNT * 1000
        rows.append(
            Row(
                f"fresh {fixture} per test: ms",
                fmt_num(per_test, 2),
                f"{seconds[empty]:.2f} s / {COUNT} empty tests",
                "",
                f"<= {MAX_MS_PER_TEST:.1f} ms",
                per_test <= MAX_MS_PER_TEST,
            )
        )
    notes.append(
        f"fixture cost = (pytest wall time with the fixture - without) / {COUNT}, best of {repeats} runs each; "
        "the async fixture is compared with empty async tests"
    )
    return rows
