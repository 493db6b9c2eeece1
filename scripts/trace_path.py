"""Trace one accepted JSON save through `Fake.process`: which modules it enters, how often it climbs.

    .venv/bin/python scripts/trace_path.py

Runs a warm fake (the header cache empty, as for a client's first call), records every change of
module on the call stack while one save is processed, and prints the modules entered, the moves
between modules, and the climbs back up: moves into a module on a higher floor, a module's floor
being one more than the highest floor of the package modules it imports (grimp's import graph).
"""

from __future__ import annotations

import base64
import itertools
import json
import sys
from functools import cache
from typing import Any

import grimp

from mockserver import Fake, RawRequest

GIF_HEX = "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
GIF = base64.b64encode(bytes.fromhex(GIF_HEX)).decode()  # a 1x1 GIF
GRAPH = grimp.build_graph("mockserver")


@cache
def floor(module: str) -> int:
    below = [m for m in GRAPH.find_modules_directly_imported_by(module) if m.startswith("mockserver.") and m != module]
    return 1 + max((floor(m) for m in below), default=0)


def main() -> int:
    fake = Fake()
    body = json.dumps({"Type": "PersonImage", "Image": GIF, "Description": "me"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw"}
    fake.process(RawRequest.build("POST", "/api/v1/Agents/BLOB/SaveImageStream", headers=headers, body=body))
    fake.header_cache = type(fake.header_cache)()  # a first call from a new client: no cached header facts
    request = RawRequest.build("POST", "/api/v1/Agents/BLOB/SaveImageStream", headers=headers, body=body)
    path: list[str] = []

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event not in ("call", "return"):
            return
        module = frame.f_globals.get("__name__", "")
        if event == "return":
            back = frame.f_back
            module = back.f_globals.get("__name__", "") if back is not None else ""
        if module.startswith("mockserver.") and (not path or path[-1] != module):
            path.append(module)

    sys.setprofile(profile)
    try:
        outcome = fake.process(request)
    finally:
        sys.setprofile(None)
    assert outcome.status == 200, outcome.body
    climbs = sum(1 for a, b in itertools.pairwise(path) if floor(b) > floor(a))
    print(f"modules entered: {len(set(path))}; moves between modules: {len(path) - 1}; climbs back up: {climbs}")
    for module in path:
        print(f"  floor {floor(module):2}  {module}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
