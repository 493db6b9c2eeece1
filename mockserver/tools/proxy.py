"""``mockserver proxy``: a validating proxy in front of a real tenant, reporting drift from the contracts.

``mockserver proxy --upstream https://sod.superoffice.com/Cust12345 --fail-on-drift`` listens
like ``serve`` and forwards every call to the tenant; at SIGINT or SIGTERM it prints the drift
it saw and, with --fail-on-drift, exits 3 if there was any (docs/proxy.md).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from ..core.config import INSTALLATIONS, Settings, parse_size
from ..core.vocabulary.errors import MockServerError
from ..http.connections import ConnectionLimits
from ..http.logs import limit_tracebacks
from ..http.upstream import DEFAULT_TIMEOUT
from ..testing.proxy import ProxyServer

EXIT_DRIFT = 3


def _size(text: str) -> int:
    try:
        return parse_size("--max-body-size", text)
    except MockServerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any) -> None:
    p = sub.add_parser("proxy", help="forward to a real tenant; check requests and answers against the contracts")
    p.add_argument(
        "--upstream", required=True, help="the tenant's base URL, e.g. https://sod.superoffice.com/Cust12345"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080, 0 = any free)")
    p.add_argument("--installation", choices=INSTALLATIONS, default="onsite", help="onsite (default) or online")
    p.add_argument("--strict", action="store_true", help="check requests as `serve --strict` would (warnings count)")
    p.add_argument("--max-body-size", type=_size, dest="max_body_size", help="body limit, e.g. 32M (default 32M)")
    p.add_argument("--journal-limit", type=int, dest="journal_limit", help="records kept (default 10000, 0 = all)")
    p.add_argument("--admin-token", dest="admin_token", help="require this bearer token on /_ routes")
    p.add_argument("--contracts", type=Path, help="contract file or folder (default: the packaged contracts/)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per upstream call (default 120)")
    p.add_argument("--ca-file", type=Path, dest="ca_file", help="PEM file of CA certificates to trust as well")
    p.add_argument("--insecure", action="store_true", help="do not verify the upstream's TLS certificate")
    p.add_argument("--fail-on-drift", action="store_true", dest="fail_on_drift", help="exit 3 at shutdown on any drift")
    p.add_argument("--quiet", action="store_true", help="do not log one line per call")


def settings_of(args: argparse.Namespace) -> Settings:
    values: dict[str, Any] = {"host": args.host, "port": args.port, "installation": args.installation}
    for name in ("max_body_size", "journal_limit", "admin_token", "contracts"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    return Settings(strict=args.strict, log_calls=not args.quiet, **values)


def _exposed(host: str) -> bool:
    try:
        return host != "localhost" and not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


async def _serve(proxy: ProxyServer) -> None:
    await proxy.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"mockserver proxy listening on {proxy.url} -> {proxy.upstream.base}", flush=True)
    print(f"  {ConnectionLimits.of(proxy.settings).describe()}", flush=True)
    if _exposed(proxy.host) and not proxy.settings.admin_token:
        print(
            f"warning: bound to {proxy.host} without --admin-token: anyone who can reach it can read the journal",
            file=sys.stderr,
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await proxy.close()


def report(summary: dict[str, Any]) -> str:
    """What the command prints at shutdown: totals, then each kind of drift with its first example."""
    lines = [
        f"mockserver proxy stopped: {summary['exchanges']} exchanges, {summary['drift']} drift "
        f"in {summary['exchanges_with_drift']}"
    ]
    for kind, seen in summary["kinds"].items():
        example = seen["example"]
        lines.append(f"  {kind}: {seen['count']} (first: #{example['seq']} {example['message']})")
    return "\n".join(lines)


def cmd_proxy(args: argparse.Namespace) -> int:
    if args.insecure:
        print(
            "warning: --insecure: the upstream's TLS certificate is not verified; "
            "anyone on the path can read the credentials passing through",
            file=sys.stderr,
            flush=True,
        )
    proxy = ProxyServer(
        args.upstream, settings_of(args), ca_file=args.ca_file, insecure=args.insecure, timeout=args.timeout
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    limit_tracebacks()
    asyncio.run(_serve(proxy))
    summary = proxy.drift.summary()
    print(report(summary), flush=True)
    return EXIT_DRIFT if args.fail_on_drift and summary["drift"] else 0
