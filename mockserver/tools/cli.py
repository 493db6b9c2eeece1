"""The `mockserver` command: serve, check contracts, and the tools built on contracts."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field
from pathlib import Path
from typing import Any

from ..core import VERSION
from ..core.config import Settings, env_name, env_overrides, option_name, parse_value, setting_fields, split_hosts
from ..core.loader import contract_files, load_contract
from ..core.vocabulary.contract import DEFAULT_CONTRACTS_DIR, ContractSet
from ..core.vocabulary.errors import ConfigError, ContractError, MockServerError
from ..http.connections import ConnectionLimits
from ..http.guard import is_loopback
from ..http.logs import limit_tracebacks
from ..http.runner import freeze_startup_objects
from ..testing.server import FakeServer
from .openapi import add_parser as _openapi_parser
from .openapi import cmd_openapi
from .proxy import add_parser as _proxy_parser
from .proxy import cmd_proxy
from .verify import add_parser as _verify_parser
from .verify import cmd_verify

Command = Callable[[argparse.Namespace], int]


def _serve_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the fake",
        description="Run the fake. Every option also reads MOCKSERVER_<OPTION> from the environment; "
        "an option given here wins over the environment, which wins over the default.",
    )
    for f in setting_fields():
        meta = f.metadata
        if not meta["cli"]:
            continue
        default = "unset" if f.default is None else f.default
        if meta["kind"] == "size":
            default = _human_size(getattr(Settings(), f.name))
        text = f"{meta['help']} (default {default}; env {env_name(f.name)})"
        if meta["kind"] == "bool":
            p.add_argument(option_name(f.name), dest=f.name, action="store_const", const=True, help=text)
        elif meta["kind"] == "hosts":  # --allowed-host, once per host
            p.add_argument(
                option_name(f.name).removesuffix("s"), dest=f.name, action="append", metavar="HOST", help=text
            )
        elif meta["kind"] == "choice":
            p.add_argument(option_name(f.name), dest=f.name, choices=meta["choices"], help=text)
        else:
            p.add_argument(option_name(f.name), dest=f.name, metavar=f.name.upper(), type=_reader(f), help=text)
    p.add_argument("--quiet", action="store_true", help=f"do not log one line per call (env {env_name('log_calls')}=0)")


def _human_size(size: int) -> str:
    for unit, scale in (("G", 1024**3), ("M", 1024**2), ("k", 1024)):
        if size and size % scale == 0:
            return f"{size // scale}{unit}"
    return str(size)


def _reader(f: Field[Any]) -> Callable[[str], Any]:
    """An argparse type for one setting: a bad value is a usage error naming the option."""

    def read(text: str) -> Any:
        try:
            return parse_value(f, option_name(f.name), text)
        except MockServerError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return read


def settings_and_sources(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> tuple[Settings, dict[str, str]]:
    """Combine defaults, MOCKSERVER_* variables and command-line options (highest wins), saying where each came from."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, value in env_overrides(environ).items():
        values[name], sources[name] = value, f"env {env_name(name)}"
    for f in setting_fields():
        value = getattr(args, f.name, None)
        if f.metadata["kind"] == "hosts" and value is not None:
            value = split_hosts(value)
        if value is not None:
            values[f.name], sources[f.name] = value, f"flag {option_name(f.name)}"
    if args.quiet:
        values["log_calls"], sources["log_calls"] = False, "flag --quiet"
    elif "log_calls" not in values:
        values["log_calls"], sources["log_calls"] = True, "mockserver serve"
    return Settings(**values), sources


def banner(server: FakeServer, sources: Mapping[str, str]) -> str:
    """The start banner: the URL, the calls served, and every setting in force with where it came from."""
    names = ", ".join(f"{c.method} {c.path}" for c in server.contracts)
    lines = [
        f"mockserver listening on {server.url} ({server.settings.installation}; {names})",
        f"  version {VERSION}; settings in force (and where each came from):",
    ]
    for name, value in server.settings.public().items():
        lines.append(f"  {name} = {value}  ({sources.get(name, 'default')})")
    lines.append(f"  {ConnectionLimits.of(server.settings).describe()}")
    return "\n".join(lines)


async def _serve(settings: Settings, sources: Mapping[str, str]) -> None:
    server = FakeServer(settings)
    await server.start()
    freeze_startup_objects()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(banner(server, sources), flush=True)
    if not is_loopback(settings.host) and not settings.admin_token:
        print(
            f"warning: bound to {settings.host} without --admin-token (MOCKSERVER_ADMIN_TOKEN): anyone who "
            "can reach it can read the journal and images and drive the /_ routes",
            file=sys.stderr,
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await server.close()
        print("mockserver stopped", flush=True)


def loop_factory(name: str | None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """None for asyncio's own loop; uvloop's factory when asked for (the `speed` extra installs it)."""
    if name in (None, "asyncio"):
        return None
    try:
        uvloop = importlib.import_module("uvloop")  # optional: only for --loop uvloop
    except ImportError:
        raise ConfigError("--loop uvloop: uvloop is not installed; pip install 'mockserver[speed]'") from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def cmd_serve(args: argparse.Namespace) -> int:
    settings, sources = settings_and_sources(args)
    factory = loop_factory(settings.loop)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    limit_tracebacks()
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(settings, sources))
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
            count = _count(len(contract.properties), "property", "properties")
            print(f"ok: {file}: {contract.method} {contract.path} ({count})")
    try:
        ContractSet.of(loaded)  # two files claiming one path only show up together
    except MockServerError as exc:
        problems += 1
        print(f"error: {exc}", file=sys.stderr)
    return 1 if problems else 0


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A contract-testing fake of SuperOffice's SaveImageStream."
    )
    parser.add_argument("--version", action="version", version=f"mockserver {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    c = sub.add_parser("check", help="validate contract files; name file and key on every problem")
    c.add_argument("path", nargs="?", type=Path, help="a contract file or folder (default: packaged contracts/)")
    _openapi_parser(sub)
    _verify_parser(sub)
    _proxy_parser(sub)
    return parser


COMMANDS: dict[str, Command] = {
    "serve": cmd_serve,
    "check": cmd_check,
    "openapi": cmd_openapi,
    "verify": cmd_verify,
    "proxy": cmd_proxy,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader (head, less) stopped reading: what it took is all it wanted. Point stdout at
        # /dev/null so the interpreter's last flush does not fail again on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MockServerError as exc:
        print_error(exc)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
