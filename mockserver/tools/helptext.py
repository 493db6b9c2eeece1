"""What every sub-command's --help has: a description paragraph and its exit statuses."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

# The exit statuses every sub-command shares, after its own.
COMMON_EXITS = "  2  a usage error, a file that cannot be read, a port that cannot be bound{more}\n  130  interrupted"


def command_parser(
    sub: Any, name: str, help: str, description: str, exits: str, more_twos: str = ""
) -> argparse.ArgumentParser:
    """A sub-command whose --help has a description paragraph and its exit statuses."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"exit status:\n{exits}\n{COMMON_EXITS.format(more=more_twos)}",
        formatter_class=HelpFormatter,
    )
    return parser


class HelpFormatter(argparse.HelpFormatter):
    """Wraps a one-paragraph description to the terminal; keeps a text of lines (the exit statuses) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        # Never inside an option or a URL (--base-url, <url>/api/v1/...): lines break at spaces only.
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )
