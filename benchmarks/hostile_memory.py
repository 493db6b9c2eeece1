"""What three hostile reproductions cost a served fake in memory, and what ``DELETE /_calls`` gives back.

``python -m benchmarks.hostile_memory`` starts ``mockserver serve`` on loopback and, one case
after the other, measures its RSS (``/proc/PID/status``) before and after:

- 30 unauthenticated ``GET /x`` with 120 headers of 250 KB each;
- 40 saves with a 20 MB ``Description``;
- 20 saves whose body has 20 properties with 1 MB names;

then the size of ``GET /_calls`` and the RSS after ``DELETE /_calls``. Prints one JSON line per
case. Every loop is bounded in count, and each request in time (60 s).
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .bodies import PNG_1X1, SAVE_PATH

MIB = 1024 * 1024
TIMEOUT = 60.0
SAVE_HEADERS = [
    ("Content-Type", "application/json"),
    ("Authorization", "Basic " + base64.b64encode(b"ann:pw").decode()),
]


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def request(port: int, method: str, path: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.putrequest(method, path)
        for name, value in headers:
            conn.putheader(name, value)
        if body or method in {"POST", "DELETE"}:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        return conn.getresponse().read()
    finally:
        conn.close()


def big_headers(port: int) -> None:
    headers = [(f"X-Big-{n}", "h" * 250_000) for n in range(120)]
    for _ in range(30):
        request(port, "GET", "/x", headers=headers)


def long_descriptions(port: int) -> None:
    image = base64.b64encode(PNG_1X1).decode()
    for n in range(40):
        body = json.dumps({"Type": "PersonImage", "Image": image, "Description": f"{n}" + "d" * (20 * MIB)})
        request(port, "POST", SAVE_PATH, body.encode(), SAVE_HEADERS)


def long_names(port: int) -> None:
    for n in range(20):
        body = json.dumps({f"{n}-{p}-" + "N" * MIB: "x" for p in range(20)})
        request(port, "POST", SAVE_PATH, body.encode(), SAVE_HEADERS)


CASES: dict[str, Callable[[int], None]] = {
    "30 GET /x, 120 headers x 250 KB": big_headers,
    "40 saves, 20 MB Description": long_descriptions,
    "20 saves, 20 properties with 1 MB names": long_names,
}


def measure(case: str) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request(port, "GET", "/_health")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        before = rss(server.pid)
        result: dict[str, Any] = {"case": case, "rss_before_mib": round(before / MIB, 1)}
        started = time.monotonic()
        try:
            CASES[case](port)
            result["load_s"] = round(time.monotonic() - started, 1)
            result["rss_after_mib"] = round(rss(server.pid) / MIB, 1)
            started = time.monotonic()
            result["calls_json_bytes"] = len(request(port, "GET", "/_calls"))
            result["calls_s"] = round(time.monotonic() - started, 2)
            request(port, "DELETE", "/_calls")
            result["rss_after_delete_calls_mib"] = round(rss(server.pid) / MIB, 1)
            result["budgets"] = json.loads(request(port, "GET", "/_health")).get("budgets")
        except TimeoutError:
            result["timed_out_after_s"] = round(time.monotonic() - started, 1)
            result["rss_at_timeout_mib"] = round(rss(server.pid) / MIB, 1)
        return result
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def main() -> None:
    for case in CASES:
        print(json.dumps(measure(case)), flush=True)


if __name__ == "__main__":
    main()
