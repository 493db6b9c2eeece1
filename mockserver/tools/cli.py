"""The `mockserver` command: serve, check contracts, and the tools built on contracts."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core.config import INSTALLATIONS, Settings, env_overrides, parse_size
from ..core.contract import DEFAULT_CONTRACTS_DIR, ContractSet
from ..core.errors import ContractError, MockServerError
from ..core.loader import contract_files, load_contract
from ..http.runner import freeze_startup_objects
from ..testing.server import FakeServer
from .openapi import add_parser as _openapi_parser
from .openapi import cmd_openapi
from .proxy import add_parser as _proxy_parser
from .proxy import cmd_proxy
from .verify import add_parser as _verify_parser
from .verify import cmd_verify

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def _size(text: str) -> int:
    try:
        return parse_size("--max-body-size", text)
    except MockServerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _serve_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the fake (env: MOCKSERVER_<OPTION>)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1; env MOCKSERVER_HOST)")
    p.add_argument("--port", type=int, help="port (default 8080, 0 = any free; env MOCKSERVER_PORT)")
    p.add_argument("--first-id", type=int, dest="first_id", help="first blob id (default 1; env MOCKSERVER_FIRST_ID)")
    p.add_argument(
        "--strict", action="store_true", default=None, help="turn every warning into a 400 (env MOCKSERVER_STRICT=1)"
    )
    p.add_argument(
        "--max-body-size",
        type=_size,
        dest="max_body_size",
        help="body limit, e.g. 512k or 32M (default 32M; env MOCKSERVER_MAX_BODY_SIZE)",
    )
    p.add_argument("--installation", choices=INSTALLATIONS, help="onsite (default) or online")
    p.add_argument("--credentials", type=Path, help="credential store file (TOML or JSON)")
    p.add_argument("--journal-limit", type=int, dest="journal_limit", help="records kept (default 10000, 0 = all)")
    p.add_argument("--admin-token", dest="admin_token", help="require this bearer token on /_ routes")
    p.add_argument("--contracts", type=Path, help="contract file or folder (default: the packaged contracts/)")
    p.add_argument("--state", type=Path, help="SQLite file that keeps ids, images and journal across restarts")
    p.add_argument("--quiet", action="store_true", help="do not log one line per call (env MOCKSERVER_LOG_CALLS=0)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Combine defaults, MOCKSERVER_* variables and command-line options (highest wins)."""
    values: dict[str, Any] = env_overrides()
    for name in (
        "host",
        "port",
        "first_id",
        "strict",
        "max_body_size",
        "installation",
        "credentials",
        "journal_limit",
        "admin_token",
        "contracts",
        "state",
    ):
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    if args.quiet:
        values["log_calls"] = False
    else:
        values.setdefault("log_calls", True)
    return Settings(**values)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _serve(settings: Settings) -> None:
    server = FakeServer(settings)
    await server.start()
    freeze_startup_objects()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    names = ", ".join(f"{c.method} {c.path}" for c in server.contracts)
    print(f"mockserver listening on {server.url} ({settings.installation}; {names})", flush=True)
    if not is_loopback(settings.host) and not settings.admin_token:
        print(
            f"warning: bound to {settings.host} without --admin-token: anyone who can reach it "
            "can read the journal and images under /_",
            file=sys.stderr,
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await server.close()
        print("mockserver stopped", flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    asyncio.run(_serve(settings))
    return 0


def print_error(exc: MockServerError) -> None:
    """Print an error; a contract file with several problems gets one line each."""
    for problem in exc.problems if isinstance(exc, ContractError) else [exc]:
        print(f"error: {problem.args[0] if problem.args else problem}", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    path: Path = args.path or DEFAULT_CONTRACTS_DIR
    problems = 0
    try:
        files = contract_files(path)
    except MockServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    loaded = []
    for file in files:
        try:
            contract = load_contract(file)
        except ContractError as exc:
            problems += len(exc.problems)
            print_error(exc)
        else:
            loaded.append(contract)
            print(f"ok: {file}: {contract.method} {contract.path} ({len(contract.properties)} properties)")
    try:
        ContractSet.of(loaded)  # two files claiming one path only show up together
    except MockServerError as exc:
        problems += 1
        print(f"error: {exc}", file=sys.stderr)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A contract-testing fake of SuperOffice's SaveImageStream."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    c = sub.add_parser("check", help="validate contract files; name file and key on every problem")
    c.add_argument("path", nargs="?", type=Path, help="a contract file or folder (default: packaged contracts/)")
    for extend in EXTENSIONS:
        extend(sub)
    return parser


# Other modules add sub-commands here: (add_parser(sub)) and COMMANDS[name] = fn.
EXTENSIONS: list[Callable[[Any], None]] = []
COMMANDS.update({"serve": cmd_serve, "check": cmd_check})
EXTENSIONS += [_openapi_parser, _verify_parser, _proxy_parser]
COMMANDS.update({"openapi": cmd_openapi, "verify": cmd_verify, "proxy": cmd_proxy})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except MockServerError as exc:
        print_error(exc)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
