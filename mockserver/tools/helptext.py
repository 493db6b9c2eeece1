"""What every sub-command's --help has: a description paragraph and its exit statuses."""

from __future__ import annotations

import argparse
from typing import Any

# The exit statuses every sub-command shares, after its own.
COMMON_EXITS = (
    "  2  a usage error (a bad option or value), or an error reading a file or binding a port{more}\n  130  interrupted"
)


def command_parser(
    sub: Any, name: str, help: str, description: str, exits: str, more_twos: str = ""
) -> argparse.ArgumentParser:
    """A sub-command whose --help has a description paragraph and its exit statuses."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"exit status:\n{exits}\n{COMMON_EXITS.format(more=more_twos)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
