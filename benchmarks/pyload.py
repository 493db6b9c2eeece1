"""A fallback load generator for machines without wrk, run as its own process.

``python -m benchmarks.pyload URL BODY_FILE HEADERS_JSON SECONDS CONNECTIONS`` prints one JSON line.
It speaks just enough HTTP/1.1 (keep-alive, Content-Length) to keep its own cost low.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


def build_request(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def worker(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float], counts: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not 200 <= status < 300:
                counts["non2xx"] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        counts["errors"] += 1
    finally:
        writer.close()


async def run(url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = build_request(url, body, headers)
    latencies: list[float] = []
    counts = {"errors": 0, "non2xx": 0}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(worker(host, port, request, deadline, latencies, counts) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else float("nan")

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": counts["errors"],
        "non2xx": counts["non2xx"],
    }


def main(argv: list[str]) -> None:
    url, body_file, headers_json, seconds, connections = argv
    result = asyncio.run(
        run(url, Path(body_file).read_bytes(), json.loads(headers_json), float(seconds), int(connections))
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
