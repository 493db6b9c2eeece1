"""What the results were measured on: date, machine, Python, commit, load."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from .loadgen import ROOT


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def git_commit() -> str:
    src = Path(os.environ.get("BENCH_SRC") or ROOT)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "mockserver", "contracts"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    note = " + uncommitted changes in mockserver/" if dirty and src == ROOT else ""
    return f"{commit}{note}" + (f" (measuring {src})" if src != ROOT else "")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def describe(tool: str) -> list[tuple[str, str]]:
    ram = _first("/proc/meminfo", "MemTotal")
    if ram.endswith(" kB"):
        ram = f"{int(ram.split()[0]) / 1024 / 1024:.1f} GiB"
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        (
            "machine",
            f"{os.cpu_count()} CPUs ({_first('/proc/cpuinfo', 'model name')}), {ram} RAM, "
            f"{platform.system()} {platform.release()}",
        ),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("commit", git_commit()),
        ("load tool", tool),
    ]
