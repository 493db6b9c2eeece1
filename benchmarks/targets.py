"""The servers under test, each run in its own process: ``python -m benchmarks.targets fake|bare [--loop uvloop]``.

Prints ``PORT <n>`` once it listens on 127.0.0.1, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path
from urllib.parse import parse_qsl

from aiohttp import web
from lxml import etree

HOST = "127.0.0.1"
COUNTER: web.AppKey[list[int]] = web.AppKey("counter", list)


async def bare_handler(request: web.Request) -> web.Response:
    """The least a server can do with the same request: read it, parse it, count it."""
    body = await request.read()
    ctype = request.content_type
    if ctype.endswith("xml"):
        etree.fromstring(body)
    elif ctype == "application/x-www-form-urlencoded":
        parse_qsl(body.decode())
    else:
        json.loads(body)
    counter = request.app[COUNTER]
    counter[0] += 1
    return web.Response(text=str(counter[0]), content_type="application/json")


def bare_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[COUNTER] = [0]
    app.router.add_post("/{tail:.*}", bare_handler)
    return app


async def serve(kind: str, state: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if kind == "bare":
        runner = web.AppRunner(bare_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"PORT {port}", flush=True)
        await stop.wait()
        await runner.cleanup()
        return
    from mockserver.http.runner import freeze_startup_objects
    from mockserver.testing.server import FakeServer

    options: dict[str, object] = {"host": HOST, "port": 0}
    if state is not None:
        options["state"] = state
    async with FakeServer(**options) as fake:
        freeze_startup_objects()  # as `mockserver serve` does
        print(f"PORT {fake.port}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.targets")
    parser.add_argument("kind", choices=["fake", "bare"])
    parser.add_argument("--state", type=Path, help="serve the fake with persistent state in this SQLite file")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio", help="event loop (default asyncio)")
    args = parser.parse_args()
    factory = None
    if args.loop == "uvloop":
        import uvloop  # the `speed` extra

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(args.kind, args.state))


if __name__ == "__main__":
    main()
