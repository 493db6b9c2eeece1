"""Provider verification: send every contract example to a server and check its answers.

``mockserver verify --base-url URL --auth "Basic ..."`` posts each ``[[examples]]`` body as
JSON and checks the status, the media type and the shape of the body; an accepted example is
sent again under each other answer format (XML, raw bytes) to check that Accept is honoured.
Pointed at a real tenant this tells whether the contract still matches it; the calls are
real, so use a test tenant: ChangePersonImage changes person 1's picture.

An example body may say ``"$blob"`` for the blob id the last accepted SaveImageStream-like
example (one answering an int32) returned; GetBlobStream then also checks it gets back the
very bytes that were saved.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from ..core.headers import media
from ..core.loader import load_contracts
from ..core.vocabulary.contract import INT32_MAX, Contract, Example
from ..core.vocabulary.errors import preview

PLACEHOLDER = "$blob"
SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"


@dataclass(frozen=True, slots=True)
class Check:
    """One request sent for one example, and everything that differed from the contract."""

    operation: str
    example: str
    accept: str
    status: int | None
    media_type: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        head = f"{'PASS' if self.ok else 'FAIL'} {self.operation} {self.example!r} (Accept: {self.accept})"
        got = f"{self.status} {self.media_type or '-'}" if self.status is not None else "no answer"
        if self.ok:
            return f"{head}: {got}"
        return f"{head}: {got}\n" + "\n".join(f"    - {p}" for p in self.problems)


@dataclass(slots=True)
class Report:
    """Every check of one verification run."""

    base_url: str
    checks: list[Check] = field(default_factory=list)
    unreachable: str | None = None  # why no request got through at all (refused, unknown host)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failed

    def text(self) -> str:
        if self.unreachable is not None:
            return f"error: cannot connect to {self.base_url}: {self.unreachable}; nothing was checked"
        lines = [c.line() for c in self.checks]
        noun = "check" if len(self.checks) == 1 else "checks"
        lines.append(f"{len(self.checks)} {noun} against {self.base_url}: {len(self.failed)} failed")
        answered = [c for c in self.checks if c.status is not None]
        if answered and all(c.status == 401 for c in answered):
            lines.append(
                "hint: every check got 401: pass --auth 'Basic …' (any well-formed credential for the fake), "
                "or the credentials the server knows"
            )
        return "\n".join(lines)


@dataclass(slots=True)
class _Context:
    blob_id: int | None = None
    blob_bytes: bytes | None = None


def _resolve(body: Mapping[str, Any], ctx: _Context) -> dict[str, Any] | None:
    out = {}
    for key, value in body.items():
        if value == PLACEHOLDER:
            if ctx.blob_id is None:
                return None
            value = ctx.blob_id
        out[key] = value
    return out


def _bytes_sent(contract: Contract, body: Mapping[str, Any]) -> bytes | None:
    for prop in contract.properties:
        value = next((v for k, v in body.items() if k.lower() == prop.name.lower()), None)
        if prop.type == "bytes" and isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return None
    return None


def _xml_text(body: bytes, root: str) -> str | None:
    text = body.decode("utf-8", "replace").strip()
    start = f'<{root} xmlns="{SERIALIZATION_NS}">'
    if text.startswith(start) and text.endswith(f"</{root}>"):
        return text[len(start) : -len(root) - 3]
    return None


def _result_problems(contract: Contract, fmt: str, body: bytes, expected_bytes: bytes | None) -> list[str]:
    """What is wrong with a success body in format `fmt` (json, xml or raw)."""
    if contract.result == "none":
        return [] if not body else [f"body: expected no body (204), got {len(body)} bytes {preview(body, 30)}"]
    value: Any
    if contract.result == "int32":
        if fmt == "xml":
            text = _xml_text(body, "int")
            if text is None or not text.lstrip("-").isdigit():
                return [f'body: expected <int xmlns="{SERIALIZATION_NS}">N</int>, got {preview(body, 60)}']
            value = int(text)
        else:
            try:
                value = json.loads(body)
            except ValueError:
                return [f"body: expected a JSON int32, got {preview(body, 40)} (not JSON)"]
            if isinstance(value, bool) or not isinstance(value, int):
                return [f"body: expected a JSON int32, got JSON {type(value).__name__} {preview(body, 40)}"]
        if not -(2**31) <= value <= INT32_MAX:
            return [f"body: expected an int32, got {value} (out of range)"]
        return []
    # A bytes result: raw, a base64 JSON string, or <base64Binary>.
    if fmt == "raw":
        data = body
    else:
        if fmt == "xml":
            text = _xml_text(body, "base64Binary")
            if text is None:
                return [f'body: expected <base64Binary xmlns="{SERIALIZATION_NS}">…, got {preview(body, 60)}']
        else:
            try:
                value = json.loads(body)
            except ValueError:
                return [f"body: expected a JSON string of base64, got {preview(body, 40)} (not JSON)"]
            if not isinstance(value, str):
                return [f"body: expected a JSON string of base64, got JSON {type(value).__name__}"]
            text = value
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return [f"body: expected base64, got {preview(text, 40)}"]
    if expected_bytes is not None and data != expected_bytes:
        return [f"body: expected the {len(expected_bytes)} bytes that were saved, got {len(data)} other bytes"]
    return []


def _error_problems(body: bytes) -> list[str]:
    try:
        value = json.loads(body)
    except ValueError:
        return [f"body: expected a SuperOffice error object, got {preview(body, 40)} (not JSON)"]
    if not isinstance(value, dict):
        return [f"body: expected a SuperOffice error object, got JSON {type(value).__name__}"]
    problems = []
    if value.get("Error") is not True:
        problems.append(f"body.Error: expected true, got {value.get('Error')!r}")
    for key in ("ErrorType", "Message", "ErrorSource"):
        if not isinstance(value.get(key), str):
            problems.append(f"body.{key}: expected a string, got {value.get(key)!r}")
    return problems


def _accepts(contract: Contract, example: Example) -> list[str]:
    """The Accept values to try: JSON always; for an accepted example one of each other format."""
    types = contract.response_media_types
    first_json = next((m for m in types if media.family(m) == "json"), types[0])
    if not 200 <= example.status < 300 or contract.result == "none":
        return [first_json]
    others = [next((m for m in types if media.family(m) == fam), None) for fam in ("xml", "other")]
    return [first_json, *(m for m in others if m is not None)]


async def _send(
    http: aiohttp.ClientSession,
    url: str,
    contract: Contract,
    example: Example,
    body: dict[str, Any],
    accept: str,
    headers: Mapping[str, str],
    ctx: _Context,
) -> Check:
    sent = {"Content-Type": "application/json", "Accept": accept, **headers}
    try:
        async with http.post(url + contract.path, data=json.dumps(body).encode(), headers=sent) as resp:
            status, data = resp.status, await resp.read()
            ctype = resp.headers.get("Content-Type")
    except aiohttp.ClientConnectorError:
        raise  # nothing can get through: verify() stops with one message
    except (aiohttp.ClientError, TimeoutError) as exc:
        problem = f"no answer: {type(exc).__name__}: {exc}"
        return Check(contract.name, example.name, accept, None, None, (problem,))
    mtype = media.parse_media_type(ctype).type if ctype else None
    problems: list[str] = []
    if status != example.status:
        problems.append(f"status: expected {example.status}, got {status}")
    fmt = {"json": "json", "xml": "xml"}.get(media.family(accept), "raw")
    if 200 <= status < 300 and status == example.status:
        if contract.result != "none" and mtype != accept:
            problems.append(f"media type: expected {accept} (asked for by Accept), got {mtype or 'none'}")
        else:
            expected_bytes = ctx.blob_bytes if contract.result == "bytes" else None
            problems += _result_problems(contract, fmt, data, expected_bytes)
        if not problems and contract.result == "int32" and fmt == "json":
            ctx.blob_id, ctx.blob_bytes = json.loads(data), _bytes_sent(contract, body)
    elif status >= 400 and fmt == "json":
        if mtype is None or media.family(mtype) != "json":
            problems.append(f"media type: expected a JSON error (asked for {accept}), got {mtype or 'none'}")
        else:
            problems += _error_problems(data)
    return Check(contract.name, example.name, accept, status, mtype, tuple(problems))


async def verify(
    base_url: str, contracts: Iterable[Contract], headers: Mapping[str, str] | None = None, timeout: float = 30.0
) -> Report:
    """Send every example of every contract to `base_url` and check each answer."""
    report = Report(base_url.rstrip("/"))
    ctx = _Context()
    # Calls that hand out ids go first, so later examples can refer to them.
    ordered = sorted(contracts, key=lambda c: c.result != "int32")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
        try:
            await _send_all(http, report, ordered, ctx, headers or {})
        except aiohttp.ClientConnectorError as exc:
            report.unreachable = str(exc.os_error) if exc.os_error is not None else str(exc)
    return report


async def _send_all(
    http: aiohttp.ClientSession, report: Report, ordered: list[Contract], ctx: _Context, headers: Mapping[str, str]
) -> None:
    """Each example of each contract with each Accept to try, in order; an id from one feeds the next."""
    for contract in ordered:
        for example in contract.examples:
            body = _resolve(example.body, ctx)
            for accept in _accepts(contract, example):
                if body is None:
                    why = f"needs {PLACEHOLDER}, but no earlier example returned a blob id"
                    report.checks.append(Check(contract.name, example.name, accept, None, None, (why,)))
                    continue
                check = await _send(http, report.base_url, contract, example, body, accept, headers, ctx)
                report.checks.append(check)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="send the contracts' examples to a server and check its answers")
    p.add_argument("--base-url", required=True, dest="base_url", help="e.g. https://sod.superoffice.com/Cust12345")
    p.add_argument("--auth", help="the Authorization header value, e.g. 'Basic dGplMDpUamUw'")
    p.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="an extra header (repeatable)")
    p.add_argument("--contracts", type=Path, help="contract file or folder (default: the packaged contracts/)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")


def cmd_verify(args: argparse.Namespace) -> int:
    headers: dict[str, str] = {}
    for item in args.header:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            print(f"error: --header must be NAME:VALUE (got {item!r})", file=sys.stderr)
            return 2
        headers[name.strip()] = value.strip()
    if args.auth:
        headers["Authorization"] = args.auth
    report = asyncio.run(verify(args.base_url, load_contracts(args.contracts), headers, args.timeout))
    print(report.text(), file=sys.stderr if report.unreachable is not None else sys.stdout)
    if report.unreachable is not None:
        return 2
    return 0 if report.ok else 1
