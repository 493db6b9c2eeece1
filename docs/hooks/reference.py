"""MkDocs hook: the pages that are generated from the code at build time, so they cannot drift.

- ``reference/configuration.md``: one row per field of `mockserver.Settings`, from the field's
  metadata (help, kind, choices) and default, with its ``serve`` option and environment variable
  as the command line derives them (`option_name`, `env_name`).
- ``reference/cli.md``: every sub-command of `mockserver.tools.cli.build_parser()`, its options
  as a table and its ``--help`` text.
- ``reference/admin-api.md``: every /_ route of the admin API's OpenAPI 3.1 description
  (`mockserver.http.admin_openapi.DOCUMENT`, what ``GET /_openapi.json`` serves), its parameters,
  body and answers, and the document itself.
- ``limits.md``: the page's ``<!-- generated:limits -->`` marker becomes a table whose values are
  read from the settings' defaults and the modules' constants.

mkdocs.yml names this file under ``hooks:``; tests/docs/test_site.py imports it as well.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import MISSING, Field, dataclass
from typing import Any

from mkdocs.structure.files import File

from mockserver.core.config import Settings, env_name, option_name, setting_fields
from mockserver.http.admin_openapi import DOCUMENT as ADMIN_DOCUMENT
from mockserver.tools.cli import build_parser

GENERATED_NOTE = "<!-- Generated at build time by docs/hooks/reference.py; edit the code, not this page. -->"
LIMITS_MARKER = "<!-- generated:limits -->"
HELP_COLUMNS = "80"  # what a code block holds at 1280 px without wrapping
KINDS = {
    "str": "text",
    "int": "whole number",
    "size": "size: bytes, or `512k`, `32M`, `1G` (powers of 1024)",
    "bool": "`1`, `true`, `yes`, `on` / `0`, `false`, `no`, `off`",
    "path": "a path",
    "choice": "one of the choices",
    "hosts": "host names (comma-separated in the variable)",
    "list": "names, comma-separated",
}


# ---- helpers -------------------------------------------------------------------------------------


def human_size(size: int) -> str:
    """``33554432`` → ``32 MiB``; exact units only, else bytes."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} bytes"


def cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def shown_default(f: Field[Any]) -> str:
    value = f.default if f.default is not MISSING else None
    kind = f.metadata["kind"]
    if f.name == "log_calls":
        return "off in Python; on for `mockserver serve` (`--quiet` turns it off)"
    if value is None:
        return "unset"
    if kind == "size":
        return f"`{human_size(value)}` ({value:,} bytes)"
    if kind == "bool":
        return "off" if not value else "on"
    if kind in ("hosts", "list"):
        return "none" if not value else ", ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def option_of(f: Field[Any]) -> str:
    if f.name == "log_calls":
        return "`--quiet` (turns it off)"
    if not f.metadata["cli"]:
        return "(none)"
    if f.metadata["kind"] == "hosts":
        return f"`{option_name(f.name).removesuffix('s')} HOST` (repeat it)"
    if f.metadata["kind"] == "bool":
        return f"`{option_name(f.name)}`"
    # The option and its value as two identifiers, so a narrow cell breaks between them.
    if f.metadata["kind"] == "choice":
        return f"`{option_name(f.name)}` `{'|'.join(f.metadata['choices'])}`"
    return f"`{option_name(f.name)}` `{f.name.upper()}`"


def accepted(f: Field[Any]) -> str:
    if f.metadata["kind"] == "choice":
        return " or ".join(f"`{c}`" for c in f.metadata["choices"])
    return KINDS[f.metadata["kind"]]


# ---- the configuration reference -----------------------------------------------------------------


def configuration_page() -> str:
    rows = ["| setting | option and variable | default | what it does |", "|---|---|---|---|"]
    for f in setting_fields():
        where = f"{option_of(f)}<br>`{env_name(f.name)}`"
        what = f"{cell(f.metadata['help'])}. Value: {accepted(f)}."
        rows.append(f"| `{f.name}` | {where} | {shown_default(f)} | {what} |")
    names = ", ".join(f"`{f.name}`" for f in setting_fields())
    return "\n".join(
        [
            GENERATED_NOTE,
            "# Configuration reference",
            "",
            "One set of settings configures a fake however it is started. Each setting below is a field of",
            "`mockserver.Settings` and a keyword of `Fake`, `FakeServer`, `ThreadedFakeServer` and",
            "`@pytest.mark.superoffice(...)`; `mockserver serve` takes it as an option and reads it from an",
            "environment variable. An option on the command line wins over the variable, which wins over the",
            "default. The page is generated from the fields' own metadata (`mockserver/core/config.py`),",
            "the same metadata `mockserver serve` builds its options from.",
            "",
            *rows,
            "",
            "## How values are read",
            "",
            "- **Sizes** are bytes, or a number with `k`, `M` or `G` (powers of 1024): `512k`, `32M`, `1G`.",
            "- **Switches** (`--strict`) take no value on the command line; their variables accept",
            "  `1`, `true`, `yes`, `on` and `0`, `false`, `no`, `off` (or empty).",
            "- **Host lists**: `--allowed-host` once per host; the variable takes a comma-separated list.",
            "- **Paths** are read relative to the working directory; an empty variable means unset.",
            "- A bad value stops start-up with one line naming the variable or option and exit status 2,",
            "  for example `error: MOCKSERVER_PORT must be a whole number (got 'eighty')`.",
            "- `log_calls` has no option of its own: `mockserver serve` logs one line per call unless",
            "  `--quiet` is given or `MOCKSERVER_LOG_CALLS=0`; a fake started from Python logs nothing",
            "  unless `log_calls=True`.",
            "",
            "## From Python and pytest",
            "",
            f"The keywords are the field names: {names}. A misspelt keyword is an error, in the marker too",
            "(`@pytest.mark.superoffice got unknown keyword(s) ...`). Besides these the marker takes",
            "`faults=[...]` ([faults](../faults-and-state.md)); the fixtures default `port` to `0`.",
            "`mockserver serve` prints every setting in force at start, each with where it came from",
            "(default, `env MOCKSERVER_...` or `flag --...`), and `GET /_health` answers them under",
            '`"settings"` (secrets only as `"set"` or `"unset"`).',
            "",
            "Two module constants are there for the rare user who needs them:",
            "`mockserver.core.storage.opening.SYNCHRONOUS` (`NORMAL`, or `FULL` for an fsync per call) and",
            "`mockserver.http.body.BODY_IDLE_TIMEOUT` (seconds a stalled request body is waited for).",
            "",
        ]
    )


# The README's short configuration table: these settings, one row each (tests/docs/test_readme.py
# checks the README's rows are exactly these).
README_SETTINGS = (
    "port",
    "first_id",
    "strict",
    "installation",
    "credentials",
    "max_body_size",
    "journal_limit",
    "state",
    "admin_token",
    "tenants",
)


def short_default(f: Field[Any]) -> str:
    value = f.default
    if value is None:
        return "unset"
    if f.metadata["kind"] == "size":
        return "`" + human_size(value).replace(" MiB", "M").replace(" GiB", "G").replace(" KiB", "k") + "`"
    if f.metadata["kind"] == "bool":
        return "off" if not value else "on"
    return f"`{value}`"


def readme_rows() -> list[str]:
    by_name = {f.name: f for f in setting_fields()}
    rows = []
    for name in README_SETTINGS:
        f = by_name[name]
        option = option_name(name)
        rows.append(f"| `{name}` | `{option}` / `{env_name(name)}` | {short_default(f)} | {cell(f.metadata['help'])} |")
    return rows


# ---- the command-line reference ------------------------------------------------------------------


def sub_parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:  # argparse keeps its sub-commands here and nowhere public
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def help_text(parser: argparse.ArgumentParser) -> str:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS  # argparse wraps to the terminal; the page wants one width
    try:
        return parser.format_help().rstrip()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| option | value | what it does |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.dest}` (positional)"
        if action.choices:
            value = " or ".join(f"`{c}`" for c in action.choices)
        elif action.nargs == 0:
            value = "(switch)"
        else:
            value = f"`{action.metavar or action.dest.upper()}`"
        if action.required:
            value += ", required"
        rows.append(f"| {names} | {value} | {cell(action.help or '')} |")
    return rows


def cli_page() -> str:
    parser = build_parser()
    lines = [
        GENERATED_NOTE,
        "# Command-line reference",
        "",
        "Generated from `mockserver.tools.cli.build_parser()`, the parser the `mockserver` command runs",
        "(also `python -m mockserver`). The options of `mockserver serve` are built from the",
        "[settings](configuration.md), so each also has an environment variable.",
        "",
        "```text",
        help_text(parser),
        "```",
        "",
    ]
    for name, sub in sub_parsers(parser):
        lines += [f"## mockserver {name}", "", *options_table(sub), "", "```text", help_text(sub), "```", ""]
    lines += [
        "## Exit status",
        "",
        "`0` on success; `1` when `check` found a problem or `verify` a deviation; `2` for an unusable",
        "option, variable or contract (one `error:` line each) and when `verify` cannot connect; `3` from",
        "`proxy --fail-on-drift` when",
        "the upstream drifted; `130` when interrupted before a server was up.",
        "",
    ]
    return "\n".join(lines)


# ---- limits --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    what: str
    value: Callable[[], str | None]  # None: the code does not have this limit (yet), so no row
    set_by: str
    past_it: str


def constant(module: str, name: str, show: Callable[[Any], str] = str) -> Callable[[], str | None]:
    def read() -> str | None:
        value = getattr(importlib.import_module(module), name, None)
        return None if value is None else show(value)

    return read


def setting(name: str, show: Callable[[Any], str] = str) -> Callable[[], str | None]:
    return lambda: show(getattr(Settings(), name))


def tenant_name_length() -> int:
    """The longest tenant prefix: the name pattern is one first character and then {0,N} more."""
    pattern = importlib.import_module("mockserver.core.tenants").TENANT_NAME.pattern
    found = re.search(r"\{0,(\d+)\}", pattern)
    if found is None:
        raise ValueError(f"cannot read the tenant name length from {pattern!r}")
    return 1 + int(found.group(1))


def seconds(value: float) -> str:
    return f"{value:g} s"


def count(value: int) -> str:
    return f"{value:,}"


LIMITS = (
    Limit(
        "request body",
        setting("max_body_size", human_size),
        "`max_body_size`",
        "`413` before any of the body is read (also instead of `100 Continue`); a chunked body is cut off "
        "as it passes the limit; the connection is closed",
    ),
    Limit(
        "all request bodies being read at once",
        setting("max_body_memory", human_size),
        "`max_body_memory` (never below `max_body_size`)",
        "`503` with `Retry-After: 1`; the connection is closed",
    ),
    Limit(
        "room for small bodies",
        lambda: (
            f"1/{importlib.import_module('mockserver.http.body').SMALL_RESERVE_SHARE} of the bodies' room, "
            f"for bodies up to {human_size(importlib.import_module('mockserver.http.body').SMALL_BODY)}"
        ),
        "`http.body.SMALL_RESERVE_SHARE`, `http.body.SMALL_BODY` (never below one body of `max_body_size`)",
        "larger bodies together get `503` with `Retry-After: 1` before they reach it, so uploads that "
        "fill the room and stall never starve the usual small save",
    ),
    Limit(
        "a slow request body",
        setting("min_body_rate", lambda v: f"{human_size(v)} a second" if v else "off"),
        "`min_body_rate` (`0`: off), applied once a body has had "
        + (constant("mockserver.core.config", "BODY_RATE_GRACE", seconds)() or "")
        + " (`core.config.BODY_RATE_GRACE`)",
        "`408` (`TimeoutException`) naming the bytes that came in how long; the connection is closed and "
        "the body's share of the room given back; journaled",
    ),
    Limit(
        "a request's line and headers",
        setting("header_timeout", seconds),
        "`header_timeout`, from the request's first byte (the connection's opening, for its first request)",
        "`408` (`TimeoutException`) and the connection closed; not journaled: no request was read",
    ),
    Limit(
        "an idle keep-alive connection",
        setting("idle_timeout", seconds),
        "`idle_timeout`",
        "the connection is closed (a client opens a new one)",
    ),
    Limit(
        "connections open at once",
        lambda: (
            "the open-file limit less "
            + f"{importlib.import_module('mockserver.http.connections').FD_RESERVE_MIN} or a "
            + f"{importlib.import_module('mockserver.http.connections').FD_RESERVE_SHARE}th of it, "
            + "whichever is more (`/_health` and the start banner say how many)"
        ),
        "`max_connections` (`0`: from the open-file limit)",
        "the connection longest waiting for a request's head is closed with a `408` to make room, or else "
        "the oldest idle keep-alive one, quietly; when every connection is busy with a request, the new one "
        "gets `503` with `Retry-After: 1`",
    ),
    Limit(
        "file descriptors",
        lambda: "the process's open-file limit (`ulimit -n`)",
        "the system; the start banner and `/_health` (`connections.open_file_limit`) say it",
        "a call that needs one more gets `503` (`ServiceUnavailableException`, `Retry-After: 1`) naming "
        "the limit, journaled; never a `500`",
    ),
    Limit(
        "the same traceback in the log",
        constant("mockserver.http.logs", "INTERVAL", lambda v: f"once every {v:g} s"),
        "`http.logs.INTERVAL` (`mockserver serve` and `mockserver proxy`)",
        "repeats are dropped and counted; the next one logged says how many were dropped",
    ),
    Limit(
        "images kept: bytes, metadata (description and type included), person and project links, "
        "every tenant's together, in memory and in state files alike",
        setting("image_budget", human_size),
        "`image_budget` (`0`: no limit); held and shed in `/_health` under `budgets.images`",
        "the tenant holding the most gives up first: its oldest images keep only their metadata "
        "(fetching one is `410 Gone` from `/_images` and `GetBlobStream`, `fake.images[id]` raises "
        "`ImageEvicted`, a `KeyError`), then the oldest metadata goes too (the id is still `410`, never "
        "`404`); the newest image always stays",
    ),
    Limit(
        "one image's metadata row in a state file",
        constant(
            "mockserver.core.storage._sqlite_images", "METADATA_WEIGHT", lambda v: f"{v} bytes + type + description"
        ),
        "`core.sqlite_images.METADATA_WEIGHT`, counted against `image_budget`",
        "once no image bytes can go, the oldest rows go; their ids still answer `410 Gone`, never `404`",
    ),
    Limit(
        "one person or project link",
        constant("mockserver.core.storage.links", "LINK_WEIGHT", lambda v: f"{v} bytes"),
        "`core.storage.links.LINK_WEIGHT`, counted against `image_budget`",
        "when the links hold the most of the budget, the oldest link of the kind with the most goes (linking "
        "an id again makes it the newest); the newest link stays",
    ),
    Limit(
        "free space kept inside a state file",
        lambda: (
            human_size(importlib.import_module("mockserver.core.storage._store").RECLAIM_SLACK)
            + f" or {importlib.import_module('mockserver.core.storage._store').RECLAIM_SHARE:.0%} of the file, "
            + "whichever is less"
        ),
        "`core.store.RECLAIM_SLACK`, `core.store.RECLAIM_SHARE`",
        "pages freed beyond it are given back to the file system; below it the next saves reuse them",
    ),
    Limit(
        "image bytes read back from state files and kept for the next read",
        constant("mockserver.core.storage._sqlite_images", "SERVE_CACHE", human_size),
        "`core.storage.sqlite_images.SERVE_CACHE`: one cache for the root file and every tenant file",
        "the least recently read picture leaves the cache (it is read from its file again when asked for)",
    ),
    Limit(
        "a state file's write-ahead log",
        constant("mockserver.core.storage.opening", "WAL_SIZE_LIMIT", human_size),
        "`core.opening.WAL_SIZE_LIMIT`",
        "cut back to that size after each checkpoint (every 1,000 pages)",
    ),
    Limit(
        "room on the state file's file system",
        lambda: "the file system's",
        "the disk",
        "`503` (`StateFileWriteFailedException`): the call rolled back whole and journaled with that `503`, "
        "its id given to the next save that is stored",
    ),
    Limit(
        "isolated tenants' state files open at once",
        constant("mockserver.core.storage.sqlite_tenants", "MAX_OPEN_TENANT_FILES", count),
        "`core.sqlite_tenants.MAX_OPEN_TENANT_FILES` (2 file descriptors each)",
        "the least recently used idle tenant's file is closed, and opened again at its next call; a file "
        "that cannot be opened is a `503` (`StateFileUnavailableException`)",
    ),
    Limit(
        "journal records",
        setting("journal_limit", count),
        "`journal_limit` (`0`: no limit)",
        "the oldest record is dropped and counted in `dropped`; its image stays",
    ),
    Limit(
        "journal bytes, every tenant's records together",
        setting("journal_budget", human_size),
        "`journal_budget` (`0`: no limit); held and shed in `/_health` under `budgets.journal`",
        "the journal holding the most drops its oldest record, counted in `dropped`, from its state file "
        "too; the newest record always stays",
    ),
    Limit(
        "one call record",
        constant("mockserver.core.vocabulary.bounds", "RECORD_CAP", human_size),
        "`core.vocabulary.bounds.RECORD_CAP`",
        "every header, query parameter, body string and name longer than "
        "`bounds.TEXT_KEPT` characters keeps its start, its length and its SHA-256; headers and query "
        "parameters past `bounds.PAIRS_KEPT` are counted in one last pair. The call is answered as always",
    ),
    Limit(
        "isolated tenants",
        setting("max_tenants", count),
        "`max_tenants`",
        "a call naming one more prefix is a `400` naming `max_tenants`",
    ),
    Limit(
        "tenant prefix",
        lambda: f"{tenant_name_length()} characters",
        "`core.tenants.TENANT_NAME`",
        "letters, digits, `.`, `_`, `-`; anything else is a `400` with isolated tenants",
    ),
    Limit(
        "one header value",
        constant("mockserver.core.headers.steps", "MAX_HEADER_VALUE", human_size),
        "`core.headers.MAX_HEADER_VALUE` (IIS's own limit)",
        "`400` naming the header; the call is journaled",
    ),
    Limit(
        "request line or header line aiohttp parses",
        constant("mockserver.http.runner", "HEADER_PARSER_LIMIT", human_size),
        "`http.runner.HEADER_PARSER_LIMIT`",
        "aiohttp refuses it: a journaled `400` with method `UNKNOWN`, path `(unparsed)`",
    ),
    Limit(
        "a stalled request body",
        constant("mockserver.http.body", "BODY_IDLE_TIMEOUT", seconds),
        "`http.body.BODY_IDLE_TIMEOUT`",
        "`400` once no byte has arrived for that long",
    ),
    Limit(
        "form fields",
        constant("mockserver.core.body.codecs", "MAX_FORM_FIELDS", count),
        "`core.codecs.MAX_FORM_FIELDS`",
        "`400`: a form body of at most that many fields",
    ),
    Limit(
        "blob ids",
        constant("mockserver.core.vocabulary.contract", "INT32_MAX", count),
        "int32, as SuperOffice's ids; `first_id` from 1 to it",
        "every further save is `507` (`OverflowException`, violation `state.next_id`)",
    ),
    Limit(
        "warnings and violations kept per call",
        constant("mockserver.core.vocabulary.errors", "KEPT_PER_CALL", count),
        "`core.errors.KEPT_PER_CALL`",
        "the rest are counted in one further entry, in the record and in the error answer",
    ),
    Limit(
        "unknown properties described one by one",
        constant("mockserver.core.body.binding", "LISTED", count),
        "`core.binding.LISTED`",
        "the rest are counted in one warning",
    ),
    Limit(
        "pixels decoded to check an image",
        constant("mockserver.core.vocabulary.images", "LOAD_MAX_PIXELS", count),
        "`core.images.LOAD_MAX_PIXELS`",
        "a larger image is verified but not decoded",
    ),
    Limit(
        "bodies processed in the event loop",
        constant("mockserver.http.app", "THREAD_BODY_SIZE", human_size),
        "`http.app.THREAD_BODY_SIZE`",
        "a larger body is processed on a worker thread, so other clients are answered meanwhile",
    ),
    Limit(
        "SO-Browser-TZ-Offset",
        constant("mockserver.core.headers.locales", "MAX_TZ_OFFSET", lambda v: f"±{v} minutes"),
        "`core.locales.MAX_TZ_OFFSET`",
        "a warning naming the header; the value is ignored",
    ),
    Limit(
        "rows on the `/_calls` page",
        constant("mockserver.http.calls", "PAGE_LIMIT", count),
        "`?limit=N`",
        "older calls are left off the page (the JSON has no default limit)",
    ),
    Limit(
        "one value on the `/_calls` page",
        constant("mockserver.http.page", "CUT", lambda v: f"{v} characters"),
        "`http.page.CUT`",
        "cut, with the full value at `/_calls/{seq}`",
    ),
    Limit(
        "near misses in an assertion message",
        constant("mockserver.core.assertions", "CLOSEST", count),
        "`core.assertions.CLOSEST`",
        "only the closest calls are described",
    ),
    Limit(
        "`wait_for_calls` default timeout",
        constant("mockserver.core.assertions", "DEFAULT_WAIT", seconds),
        "`timeout=`",
        "`AssertionError` naming the calls that did arrive",
    ),
    Limit(
        "one upstream call of the proxy",
        constant("mockserver.http.upstream", "DEFAULT_TIMEOUT", seconds),
        "`mockserver proxy --timeout`",
        "`502` in SuperOffice's error shape, journaled as drift `no_answer`; an answer being passed on "
        "is cut short (the connection closes without its end)",
    ),
    Limit(
        "an upstream answer the proxy keeps to check and journal",
        constant("mockserver.http.upstream", "KEPT_ANSWER", human_size),
        "`http.upstream.KEPT_ANSWER`, within `max_body_memory`",
        "the rest is passed on as it comes, one chunk held at a time; the checks of the body's content "
        "are skipped ([proxy](proxy.md))",
    ),
    Limit(
        "a compressed upstream answer checked by the proxy",
        constant("mockserver.core.proxy.drift", "MAX_DECODED", human_size),
        "`core.drift.MAX_DECODED`",
        "checked only up to that size unpacked; passed on unchanged",
    ),
    Limit(
        "header sets remembered per fake",
        constant("mockserver.core.headers.steps", "HEADER_CACHE_SIZE", count),
        "`core.headers.HEADER_CACHE_SIZE` (sets over "
        + (constant("mockserver.core.headers.steps", "HEADER_CACHE_MAX_CHARS", human_size)() or "")
        + " are not kept)",
        "the oldest is forgotten and worked out again when it comes back; answers never change",
    ),
)


def limits_table() -> str:
    rows = ["| limit | value | set by | past it |", "|---|---|---|---|"]
    for limit in LIMITS:
        value = limit.value()
        if value is not None:
            rows.append(f"| {limit.what} | {cell(value)} | {cell(limit.set_by)} | {cell(limit.past_it)} |")
    return "\n".join(rows)


# ---- the admin API reference ----------------------------------------------------------------------


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[1]}`"
    if "oneOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["oneOf"])
    return f"`{schema.get('type', 'any')}`"


def admin_api_page() -> str:
    """Each route of the admin API's OpenAPI description: what it does, its parameters, its answers."""
    lines = [
        GENERATED_NOTE,
        "# Admin API reference",
        "",
        "The `/_` routes as `GET /_openapi.json` describes them in OpenAPI 3.1 (a client can be generated",
        "from it). With `--tenants isolated` each is served under `/{tenant}` too, as that tenant's view;",
        "with `--admin-token` each wants `Authorization: Bearer TOKEN` or `?token=TOKEN`. Errors are in",
        "SuperOffice's error shape (`Error`, `ErrorType`, `Message`, `ErrorSource`, `Violations`).",
        "",
    ]
    for path, item in ADMIN_DOCUMENT["paths"].items():
        if path.startswith("/{tenant}"):
            continue
        for method, op in item.items():
            lines += [f"## {method.upper()} {path}", "", op["summary"] + ".", ""]
            params = op.get("parameters", [])
            if params:
                lines += ["| parameter | in | what |", "|---|---|---|"]
                lines += [f"| `{p['name']}` | {p['in']} | {cell(p['description'])} |" for p in params]
                lines.append("")
            body = op.get("requestBody")
            if body:
                lines += [f"Body: {_schema_name(body['content']['application/json']['schema'])} (JSON).", ""]
            lines += ["| status | answer |", "|---|---|"]
            for status, answer in op["responses"].items():
                types = ", ".join(f"`{t}`" for t in answer.get("content", {}))
                lines.append(f"| {status} | {cell(answer['description'])} ({types}) |")
            lines.append("")
    lines += [
        "## The document",
        "",
        "```json",
        json.dumps(ADMIN_DOCUMENT, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


# ---- the MkDocs events ---------------------------------------------------------------------------

PAGES: dict[str, Callable[[], str]] = {
    "reference/configuration.md": configuration_page,
    "reference/cli.md": cli_page,
    "reference/admin-api.md": admin_api_page,
}


def on_files(files: Any, config: Any) -> Any:
    for uri, make in PAGES.items():
        files.append(File.generated(config, uri, content=make()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if LIMITS_MARKER in markdown:
        markdown = markdown.replace(LIMITS_MARKER, limits_table())
    return markdown


# ---- identifiers stay whole ----------------------------------------------------------------------

# Inline code (a setting, an option, a path, a command, a JSON value): each of its words is kept on
# one line (extra.css), so a line breaks only at a space of it, never inside `--log-format`.
INLINE_CODE = re.compile(r"<code>([^<]+)</code>")
WORD = re.compile(r"\S+")


def _whole_words(match: re.Match[str]) -> str:
    return '<code class="words">' + WORD.sub(r'<span class="w">\g<0></span>', match.group(1)) + "</code>"


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    return INLINE_CODE.sub(_whole_words, html)
