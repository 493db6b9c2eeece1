"""scripts/trace_path.py: the path of one accepted save, as a newcomer reads it, still runs and says something."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_trace_of_one_save_names_the_wings_it_crosses() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "trace_path.py")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    first, *steps = done.stdout.splitlines()
    assert first.startswith("modules entered: ")
    crossed = {line.split()[-1].split(".")[2] for line in steps}
    assert {"fake", "headers", "body", "answering", "vocabulary"} <= crossed
