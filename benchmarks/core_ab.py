"""Interleaved A/B of the core alone: ``python -m benchmarks.core_ab OTHER_CHECKOUT [--rounds 5]``.

Times `Fake.process` in process (best of 7 runs of 3,000 calls, a fresh fake each run) for the
JSON, XML and form saves and a rejected call, alternating between this checkout and another one
(a ``git worktree add`` of an older commit), each in its own Python process, so a busy machine
slows both sides alike. Prints microseconds per call for each side and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

# Runs inside the measured checkout: only the public surface, so any version of the package serves.
PROBE = r"""
import base64, json, time
from urllib.parse import quote
from mockserver import Fake, RawRequest
GIF_HEX = "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
GIF = base64.b64encode(bytes.fromhex(GIF_HEX)).decode()
PATH = "/api/v1/Agents/BLOB/SaveImageStream"
AUTH = {"Authorization": "Basic dGplMDpUamUw"}
JSON = json.dumps({"Type": "PersonImage", "Image": GIF, "Description": "me"}).encode()
XML = f"<SaveImageStream><Type>PersonImage</Type><Image>{GIF}</Image></SaveImageStream>".encode()
FORM = f"Type=PersonImage&Image={quote(GIF, safe='')}".encode()
CASES = {
    "json": ("application/json", JSON),
    "xml": ("application/xml", XML),
    "form": ("application/x-www-form-urlencoded", FORM),
    "rejected": ("application/json", b'{"Type": "Selfie", "Image": "GIF89a..."}'),
}
out = {}
for name, (ctype, body) in CASES.items():
    best = float("inf")
    for _ in range(7):
        fake = Fake(journal_limit=10_000)
        raw = RawRequest.build("POST", PATH, headers={"Content-Type": ctype, **AUTH}, body=body)
        start = time.perf_counter()
        for _ in range(3000):
            fake.process(raw)
        best = min(best, (time.perf_counter() - start) / 3000 * 1e6)
    out[name] = best
print(json.dumps(out))
"""


def measure(checkout: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.core_ab", description=__doc__)
    p.add_argument("other", type=Path, help="another checkout of the project (e.g. a git worktree of an older commit)")
    p.add_argument("--rounds", type=int, default=5, help="alternations of the two sides (default 5)")
    args = p.parse_args(argv)
    sides = {"other": args.other.resolve(), "this": HERE}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, checkout in sides.items():
            runs[name].append(measure(checkout))
    cases = list(runs["this"][0])
    print(f"{'case':<10} {'other us':>9} {'this us':>9} {'this/other':>10}   (median of {args.rounds} alternations)")
    for case in cases:
        other = statistics.median(r[case] for r in runs["other"])
        this = statistics.median(r[case] for r in runs["this"])
        print(f"{case:<10} {other:9.1f} {this:9.1f} {this / other:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
