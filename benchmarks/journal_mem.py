"""Row 5: memory per journal record over many small saves, and that the journal bound holds.

Runs the pure core (`Fake.process`) in its own process: ``python -m benchmarks.journal_mem N``
prints one JSON line. tracemalloc counts the bytes Python allocated for what the saves left behind.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
from dataclasses import fields
from typing import Any

from .bodies import PNG_1X1, SAVE_PATH, small_cases
from .loadgen import child_cwd, child_env
from .table import Row, fmt_bytes

MAX_RECORD_BYTES = 2048
BOUND_LIMIT = 1000


def fresh_request(case_body: bytes, headers: dict[str, str], i: int) -> Any:
    from aiohttp import hdrs
    from multidict import CIMultiDict, CIMultiDictProxy

    from mockserver import RawRequest

    # As aiohttp's parser hands them over: well-known names are shared istr constants, values are fresh.
    names = {str(h).lower(): h for h in (hdrs.CONTENT_TYPE, hdrs.AUTHORIZATION, hdrs.ACCEPT)}
    pairs = [(names[k.lower()], v.encode().decode()) for k, v in headers.items()]
    pairs += [
        (hdrs.HOST, b"127.0.0.1:8080".decode()),
        (hdrs.USER_AGENT, f"bench/{i}"),
        (hdrs.CONTENT_LENGTH, str(len(case_body))),
    ]
    return RawRequest("POST", SAVE_PATH, "", CIMultiDictProxy(CIMultiDict(pairs)), case_body)


def bytes_in(value: Any, depth: int = 0) -> int:
    """Count bytes objects anywhere inside a record (the image must not be among them)."""
    if isinstance(value, bytes | bytearray):
        return 1
    if depth > 6:
        return 0
    if isinstance(value, dict):
        return sum(bytes_in(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(bytes_in(v, depth + 1) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(bytes_in(getattr(value, f.name), depth + 1) for f in fields(value))
    return 0


def measure(count: int) -> dict[str, Any]:
    from mockserver import Fake

    case = small_cases()[0]
    headers = case.headers()
    fake = Fake(journal_limit=0)
    for i in range(50):  # warm caches and lazy imports before counting
        fake.process(fresh_request(case.body, headers, i))
    fake.reset()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    for i in range(count):
        fake.process(fresh_request(case.body, headers, i))
    elapsed = time.perf_counter() - started
    gc.collect()
    with_images = tracemalloc.get_traced_memory()[0] - base
    records = fake.calls
    last = records.last
    statuses = {r.status for r in records}
    image_copies = bytes_in(last)
    stored_ok = fake.images[last.blob_id] == PNG_1X1
    fake.state.images.clear()
    gc.collect()
    journal_only = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del records, last

    bounded = Fake(journal_limit=BOUND_LIMIT)
    saves = 20 * BOUND_LIMIT
    for i in range(saves):
        bounded.process(fresh_request(case.body, headers, i))
    journal = bounded.state.journal
    return {
        "count": count,
        "statuses": sorted(statuses),
        "per_save": with_images / count,
        "per_record": journal_only / count,
        "seconds": elapsed,
        "image_bytes_in_record": image_copies,
        "stored_once": stored_ok,
        "bound_saves": saves,
        "bound_len": len(journal),
        "bound_dropped": journal.dropped,
        "bound_first_seq": bounded.calls.first.seq,
    }


def run(notes: list[str], count: int = 100_000) -> list[Row]:
    cmd = [sys.executable, "-m", "benchmarks.journal_mem", str(count)]
    proc = subprocess.run(
        cmd, cwd=child_cwd(), env=child_env(), capture_output=True, text=True, timeout=600, check=True
    )
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    if m["statuses"] != [200]:
        raise RuntimeError(f"the small saves were not all accepted: statuses {m['statuses']}")
    bound_ok = m["bound_len"] == BOUND_LIMIT and m["bound_dropped"] == m["bound_saves"] - BOUND_LIMIT
    notes.append(
        f"journal: {m['count']:,} saves through Fake.process in {m['seconds']:.1f} s under tracemalloc "
        f"({m['count'] / m['seconds']:,.0f}/s); per save includes the stored image, per record is what is left "
        "once the image store is cleared"
    )
    return [
        Row(
            "journal record per small save",
            fmt_bytes(m["per_record"]),
            "",
            "",
            f"<= {fmt_bytes(MAX_RECORD_BYTES)}",
            m["per_record"] <= MAX_RECORD_BYTES,
        ),
        Row("memory per small save (record + stored image)", fmt_bytes(m["per_save"])),
        Row(
            "image bytes held in the record / stored once",
            f"{m['image_bytes_in_record']} / {m['stored_once']}",
            "",
            "",
            "0 / True",
            m["image_bytes_in_record"] == 0 and m["stored_once"],
        ),
        Row(
            f"journal bound (limit {BOUND_LIMIT:,}, {m['bound_saves']:,} saves)",
            f"len {m['bound_len']:,}, dropped {m['bound_dropped']:,}, first seq {m['bound_first_seq']:,}",
            "",
            "",
            f"len {BOUND_LIMIT:,}, dropped {m['bound_saves'] - BOUND_LIMIT:,}",
            bound_ok,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)), flush=True)
