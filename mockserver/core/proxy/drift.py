"""Drift: where a real server's answer differs from what the contract allows or describes.

`check_answer` compares one upstream answer (status, headers, body) with the contract of the
call and with the verdict the fake reached on the same request; each difference is a `Drift`
(`shapes` checks the bodies). Pure: the proxy in `http.proxy` calls it once the upstream's answer is in;
of a long answer only the first bytes are kept, and the checks of the body's content are skipped.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.core.answering.coverage import error_statuses
from mockserver.core.headers import media
from mockserver.core.proxy.shapes import Drift, bytes_result, int32_result, json_error, xml_error
from mockserver.core.vocabulary.contract import Contract
from mockserver.core.vocabulary.errors import Violation, preview

# Statuses the fake's pipeline answers for a request it refuses on its own grounds: an upstream
# refusing with one of these what the contract accepts disagrees with the contract. 401 and 404
# depend on the tenant's users and data, so they never count.
VALIDATION_STATUSES = frozenset({400, 405, 406, 413, 415})
MAX_DECODED = 64 * 1024 * 1024  # a compressed body is checked only up to this size unpacked


@dataclass(frozen=True, slots=True)
class UpstreamAnswer:
    """What the upstream answered: status, headers as sent (case-insensitive mapping) and body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: float = 0.0
    # A long answer is passed on as it comes and only its first bytes are kept: then `body` is
    # that prefix, `size` what came in all, and `cut` why the answer stopped short (None: it did not).
    size: int | None = None
    cut: str | None = None

    @property
    def partial(self) -> bool:
        """Only a prefix of the body is here: the checks of its content are skipped."""
        return self.size is not None and self.size != len(self.body)


@dataclass(frozen=True, slots=True)
class Checked:
    """The drift found in one answer, and the result read from it (an id, or what the bytes are)."""

    drift: tuple[Drift, ...]
    media_type: str | None = None
    result: Any = None


def no_answer(reason: str) -> Drift:
    return Drift("no_answer", "upstream", "an HTTP answer", reason)


def check_answer(
    contract: Contract | None,
    method: str,
    answer: UpstreamAnswer,
    fake_status: int,
    fake_violations: Sequence[Violation] = (),
) -> Checked:
    """Compare `answer` with `contract` and with the fake's verdict (`fake_status`) on the same request.

    A request that matches no contract, and the fake's own GET/HEAD descriptions, are not compared.
    """
    mtype, bad_type = _media_type(answer.headers.get("Content-Type"))
    found: list[Drift] = []
    if answer.cut is not None:
        found.append(no_answer(f"an answer cut short after {answer.size} bytes: {answer.cut}"))
    if contract is None or method != contract.method:
        return Checked(tuple(found), mtype)
    status = answer.status
    documented = (contract.response_status, *error_statuses(contract))
    if status not in documented:
        listed = ", ".join(map(str, error_statuses(contract)))
        found.append(
            Drift("status", "status", f"{contract.response_status}, or an error status of {listed}", str(status))
        )
    found += _verdict(contract, status, fake_status, fake_violations)
    body = None if answer.partial else _decoded(answer)
    result = None
    if status == contract.response_status:
        shape, result = _success(contract, mtype, bad_type, body, answer.size)
        found += shape
    elif status >= 400:
        found += _error(contract, status, answer.headers, mtype, bad_type, body)
    return Checked(tuple(found), mtype, result)


def _media_type(value: str | None) -> tuple[str | None, str | None]:
    """The bare media type, or (None, what was wrong)."""
    if value is None or not value.strip():
        return None, "no Content-Type"
    try:
        return media.parse_media_type(value).type, None
    except media.MediaError as exc:
        return None, f"{preview(value, 40)}: {exc}"


def _decoded(answer: UpstreamAnswer) -> bytes | None:
    """The body as the server meant it (gzip and deflate undone); None when it cannot be read here."""
    coding = answer.headers.get("Content-Encoding", "identity").strip().lower()
    if coding in ("", "identity"):
        return answer.body
    if coding not in ("gzip", "x-gzip", "deflate"):
        return None
    unpack = zlib.decompressobj(wbits=47)  # 47: gzip or zlib, by the header
    try:
        data = unpack.decompress(answer.body, MAX_DECODED)
    except zlib.error:
        return None
    return data if not unpack.unconsumed_tail else None


def _verdict(contract: Contract, status: int, fake_status: int, violations: Sequence[Violation]) -> list[Drift]:
    why = f": {violations[0].message}" if violations else ""
    if fake_status >= 400:
        if status == fake_status or status in (401, 403):  # a tenant may check credentials first
            return []
        got = f"{status}, the request accepted" if 200 <= status < 300 else str(status)
        return [Drift("verdict", "status", f"{fake_status} as the contract refuses this request{why}", got)]
    if status in VALIDATION_STATUSES and not _depends_on_data(contract, status):
        expected = f"{contract.response_status} as the contract accepts this request"
        return [Drift("verdict", "status", expected, f"{status}, the request refused")]
    return []


def _depends_on_data(contract: Contract, status: int) -> bool:
    """Whether the contract itself may refuse a valid request with `status`, depending on the tenant's data."""
    return status == 400 and any(p.must_exist for p in contract.properties)


def _wrong_type(expected: Sequence[str], mtype: str | None, bad_type: str | None) -> Drift:
    got = bad_type if mtype is None else mtype
    return Drift("media_type", "header.Content-Type", f"one of {', '.join(expected)}", got or "no Content-Type")


def _success(
    contract: Contract, mtype: str | None, bad: str | None, body: bytes | None, size: int | None = None
) -> tuple[list[Drift], Any]:
    if contract.result == "none":
        got = len(body) if body else size  # a long body, only partly kept, is no body either
        if got:
            return [Drift("result", "body", f"no body ({contract.response_status})", f"{got} bytes")], None
        return [], None
    offered = contract.response_media_types
    if mtype not in offered:
        return [_wrong_type(offered, mtype, bad)], None
    if body is None:
        return [], None
    assert mtype is not None
    fmt = media.family(mtype)
    if contract.result == "int32":
        return int32_result(body, fmt)
    return bytes_result(body, fmt)


def _error(
    contract: Contract, status: int, headers: Mapping[str, str], mtype: str | None, bad: str | None, body: bytes | None
) -> list[Drift]:
    found = []
    if status == 401 and not headers.get("WWW-Authenticate", "").strip():
        found.append(Drift("header", "header.WWW-Authenticate", "a challenge on 401, e.g. Basic realm=…", "none"))
    if status == 405 and not headers.get("Allow", "").strip():
        found.append(Drift("header", "header.Allow", f"the allowed methods on 405, e.g. {contract.method}", "none"))
    offered = tuple(dict.fromkeys(("application/json", *contract.response_media_types)))
    error_types = [m for m in offered if media.family(m) in ("json", "xml")]
    if mtype not in error_types:
        found.append(_wrong_type(error_types, mtype, bad))
    if body is None:
        return found
    fmt = media.family(mtype) if mtype is not None else "other"
    if not body:
        found.append(Drift("error_body", "body", "a SuperOffice error object", "no body"))
    elif fmt == "xml":
        found += xml_error(body)
    elif fmt == "json" or mtype is None:
        found += json_error(body)
    else:
        found.append(Drift("error_body", "body", "a SuperOffice error object", f"a {mtype} body {preview(body, 30)}"))
    return found
