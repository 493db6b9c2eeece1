"""What persistence costs: saves per second through the core, in memory and with a state file."""

from __future__ import annotations

import base64
import json
import tempfile
import time
from pathlib import Path

from mockserver import Fake, RawRequest


def saves_per_second(n: int = 500, state: Path | str | None = None) -> float:
    """Run `n` valid saves through the core (no sockets) and return saves per second."""
    body = json.dumps({"Type": "PersonImage", "Image": base64.b64encode(b"GIF89a" + bytes(64)).decode()}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw"}
    fake = Fake(state=Path(state) if state is not None else None, journal_limit=1000)
    request = RawRequest.build("POST", "/api/v1/Agents/BLOB/SaveImageStream", headers=headers, body=body)
    try:
        started = time.perf_counter()
        for _ in range(n):
            fake.process(request)
        return n / (time.perf_counter() - started)
    finally:
        fake.state.close()


def state_cost(n: int = 500, directory: Path | str | None = None) -> dict[str, float]:
    """Saves per second in memory and with a state file (in `directory`, default a temp dir)."""
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        memory = saves_per_second(n)
        on_disk = saves_per_second(n, Path(tmp) / "state.sqlite")
    return {"memory_per_s": memory, "state_per_s": on_disk, "slowdown": memory / on_disk}
