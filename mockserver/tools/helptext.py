"""What every sub-command's --help has: a description paragraph and its exit statuses."""

from __future__ import annotations

import argparse
import textwrap
from dataclasses import dataclass
from typing import Any

# The exit statuses every sub-command shares, after its own.
COMMON_EXITS = "  2  a usage error, a file that cannot be read, a port that cannot be bound{more}\n  130  interrupted"


BASE_URL_HELP = "the server's URL without /api/v1, e.g. https://sod.superoffice.com/Cust12345"
EXIT_DRIFT = 3  # proxy --fail-on-drift, stopped after some drift


@dataclass(frozen=True)
class CommandHelp:
    """What one sub-command's --help says besides its options."""

    help: str  # the line under `mockserver --help`
    description: str  # one paragraph, wrapped to the terminal
    exits: str  # its own exit statuses, one a line
    more_twos: str = ""  # what else exits 2


COMMAND_HELP = {
    "serve": CommandHelp(
        "run the fake",
        "Run the fake: SuperOffice's BLOB calls at <url>/api/v1/Agents/BLOB/..., or under a tenant prefix "
        "such as <url>/Cust12345/api/v1/..., and the /_ routes. Every option also reads MOCKSERVER_<OPTION> "
        "from the environment; an option given here wins over the environment, which wins over the default. "
        "The start banner lists every setting in force and where it came from.",
        "  0  stopped by Ctrl-C or SIGTERM",
    ),
    "check": CommandHelp(
        "validate contract files; name file and key on every problem",
        "Load contract files (TOML) as serve would and report every problem, naming the file and the key; "
        "a valid file gets one 'ok:' line. It reads no MOCKSERVER_* variables.",
        "  0  every contract is valid\n"
        "  1  at least one problem (each printed as 'error: ...'), or no contract at the path",
    ),
    "verify": CommandHelp(
        "send the contracts' examples to a server and check its answers",
        "Send every example of every contract to a server (a real tenant, or a running fake) and check each "
        "answer's status and shape against the contract. --base-url is the part before /api/v1: each call "
        "goes to <base-url>/api/v1/Agents/BLOB/<call>. Its options read no MOCKSERVER_* variables.",
        "  0  every answer was as the contracts say\n  1  at least one answer differed (listed)",
        ";\n     the server could not be reached (nothing was checked); a bad --header",
    ),
    "proxy": CommandHelp(
        "forward to a real tenant; check requests and answers against the contracts",
        "Stand in front of a real tenant: forward every call to --upstream, check the request and the answer "
        "against the contracts, and record drift (/_drift, and a summary at shutdown). --upstream is the part "
        "before /api/v1: <proxy>/api/v1/... goes to <upstream>/api/v1/.... Its options read no MOCKSERVER_* "
        "variables.",
        f"  0  stopped by Ctrl-C or SIGTERM\n  {EXIT_DRIFT}  with --fail-on-drift, stopped after some drift",
    ),
    "openapi": CommandHelp(
        "write an OpenAPI 3.1 document generated from the contracts",
        "Write an OpenAPI 3.1 document of the calls the contracts describe, with SuperOffice's operation ids, "
        "media types and error body. Its paths start with /api/v1, so --server-url is the part before it. "
        "Its options read no MOCKSERVER_* variables.",
        "  0  written",
    ),
}


def command_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    """A sub-command whose --help has a description paragraph and its exit statuses (COMMAND_HELP)."""
    text = COMMAND_HELP[name]
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=text.help,
        description=text.description,
        epilog=f"exit status:\n{text.exits}\n{COMMON_EXITS.format(more=text.more_twos)}",
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
