"""The pure core: one request in (bytes and headers), one answer and one call record out.

Nothing here imports aiohttp; the hypothesis suite drives `Fake.process` without sockets.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from . import auth, codecs
from .answers import (
    DESCRIBE_METHODS,
    describe,
    encode_result,
    error_bytes,
    error_media,
    media_of,
    negotiate,
    request_media,
    utf8,
)
from .assertions import Assertions
from .behaviours import BEHAVIOURS, Result
from .config import Settings
from .contract import Contract, ContractSet, load_contracts
from .errors import ApiError, Violation, preview
from .faults import FaultInjection, FaultSet, Hit
from .images import ImageInfo
from .journal import NO_AUTH, NO_LOCALE, AuthInfo, CallList, CallRecord, Locale, new_record
from .locales import parse_select, read_locale
from .slots import slots_constructor
from .state import ImageStore, State
from .validation import Binding, bind

# IIS (http.sys MaxFieldLength) refuses a header longer than 16 KiB with 400; the shell lets such
# headers through (server.HEADER_PARSER_LIMIT) so the fake answers and journals them itself.
MAX_HEADER_VALUE = 16 * 1024
# A client sends the same header set on every call, so what the header steps conclude from it is
# kept per fake: a few dozen sets, each small, so a client varying its headers costs little memory.
HEADER_CACHE_SIZE = 64
HEADER_CACHE_MAX_CHARS = 8 * 1024


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request as the HTTP shell saw it. `body_problem` is set when the body was not read.

    A bytearray body is the shell's own read buffer: decoding empties it as soon as the text is
    out, so a 20 MiB image is not held as bytes, text and parsed value all at once.
    """

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = field(default_factory=lambda: CIMultiDictProxy(CIMultiDict()))
    body: bytes | bytearray = b""
    body_problem: ApiError | None = None

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
        query: str = "",
    ) -> RawRequest:
        """Build a request from plain values (for tests and the core's own callers)."""
        return cls(method.upper(), path, query, CIMultiDictProxy(CIMultiDict(headers or {})), body)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to send and the record that was journaled."""

    status: int
    body: bytes
    content_type: str | None
    headers: dict[str, str]
    record: CallRecord
    fault: Hit | None = None  # the shell acts out delays, drops and truncation


new_outcome = slots_constructor(Outcome)  # one per call: see slots.py


class _Call:
    """What is learned about a call as it passes each step; becomes the CallRecord."""

    __slots__ = (
        "auth",
        "binding",
        "content_type",
        "extra",
        "fault",
        "fmt",
        "locale",
        "media",
        "not_acceptable",
        "select",
        "warnings",
    )

    def __init__(self) -> None:
        self.auth: AuthInfo = NO_AUTH
        self.locale: Locale = NO_LOCALE
        self.select: tuple[str, ...] = ()
        self.binding: Binding | None = None
        self.warnings: list[Violation] = []
        self.fmt = "json"
        self.media = "application/json"
        self.content_type: str | None = None
        self.extra: dict[str, Any] = {}
        self.not_acceptable: ApiError | None = None
        self.fault: Hit | None = None


@dataclass(frozen=True, slots=True)
class _HeaderFacts:
    """What the header steps concluded from one header set that passed them all.

    Only sets that raised nothing are kept, so a cached answer never skips an error. `auth` is
    None when it depends on more than the headers (a credential store: grants expire).
    """

    media: str
    fmt: str
    accept_warnings: tuple[Violation, ...]
    auth: AuthInfo | None
    locale: Locale
    locale_warnings: tuple[Violation, ...]
    request_media: tuple[str, str | None, str | None]
    content_type: str
    redacted: tuple[tuple[str, str], ...]


class Fake(Assertions, FaultInjection):
    """One fake SuperOffice tenant: contracts, settings and state, without any networking."""

    def __init__(self, settings: Settings | None = None, *, contracts: ContractSet | None = None, **overrides: Any):
        base = settings or Settings()
        self.settings = base.with_(**overrides) if overrides else base
        self.contracts = contracts if contracts is not None else load_contracts(self.settings.contracts)
        self.state = State(self.settings.first_id, self.settings.journal_limit, self.settings.state)
        self.faults = FaultSet()
        self.credentials = auth.load_store(self.settings.credentials)
        self._header_facts: dict[tuple[Any, ...], _HeaderFacts] = {}
        self._facts_basis: tuple[Any, ...] = ()

    # ---- the user's view -------------------------------------------------------------------

    @property
    def calls(self) -> CallList:
        """Every recorded call, oldest first (at most the journal limit)."""
        return self.state.journal.snapshot()

    @property
    def images(self) -> ImageStore:
        """Stored images by blob id: ``fake.images[33]`` is the bytes."""
        return self.state.images

    @property
    def person_images(self) -> Mapping[int, int]:
        """Person id → blob id, as linked by ChangePersonImage (read-only view)."""
        return MappingProxyType(self.state.attachments.setdefault("person", {}))

    @property
    def project_images(self) -> Mapping[int, int]:
        """Project id → blob id, as linked by ChangeProjectImage (read-only view)."""
        return MappingProxyType(self.state.attachments.setdefault("project", {}))

    def coverage(self) -> dict[str, Any]:
        """Which parts of the contracts the recorded calls exercised, and which they never tried."""
        from .coverage import compute

        return compute(self.contracts, self.state.journal.snapshot(), dropped=self.state.journal.dropped)

    @property
    def next_id(self) -> int:
        return self.state.ids.peek

    def reset(self) -> None:
        """Forget everything: ids start again at the first id; journal and images are cleared."""
        self.state.reset()
        self.faults.clear()

    # ---- the pipeline ----------------------------------------------------------------------

    def process(self, raw: RawRequest) -> Outcome:
        """Answer one request and journal it. Never raises for anything a client can send."""
        started = time.time()
        contract, prefix = self.contracts.match(raw.path)
        call = _Call()
        query = tuple(parse_qsl(raw.query_string, keep_blank_values=True)) if raw.query_string else ()
        result: Result | None = None
        headers: dict[str, str] = {}
        key: tuple[Any, ...] = (id(contract), tuple(raw.headers.items()))
        try:
            facts = self._cached_facts(key)
        except TypeError:  # a caller's own Mapping with unhashable values: work it out each time
            key, facts = (), None
        try:
            result = self._run(raw, contract, query, call, facts, key)
            status = contract.response_status if contract and raw.method == contract.method else 200
            body, ctype = encode_result(contract, raw.method, result, call)
        except ApiError as err:
            status = err.status
            headers.update(err.headers)
            body = error_bytes(err, call.fmt)
            ctype = utf8(error_media(call))
            violations = tuple(err.violations)
        else:
            violations = ()
        binding = call.binding
        record = new_record(  # CallRecord's fields, in order
            self.state.journal.next_seq(),
            started,
            raw.method,
            raw.path,
            prefix,
            contract.name if contract else None,
            query,
            call.select,
            facts.redacted if facts is not None else auth.redact_headers(raw.headers),
            call.auth,
            call.locale,
            _summarise(binding),
            status,
            result.blob_id if result is not None else (call.fault.blob_id if call.fault else None),
            violations,
            tuple(call.warnings),
            call.content_type,
            media_of(ctype),
            _loggable(result.value) if result is not None else None,
            call.fault.label if call.fault else None,
            call.extra or _NO_EXTRA,
        )
        self.state.journal.append(record)
        return new_outcome(status, body, ctype, headers, record, call.fault)

    def _cached_facts(self, key: tuple[Any, ...]) -> _HeaderFacts | None:
        basis = (self.settings, self.credentials)
        if self._facts_basis != basis:  # settings or credentials replaced: conclusions may differ
            self._header_facts = {}
            self._facts_basis = basis
        return self._header_facts.get(key)

    def _remember_facts(
        self,
        key: tuple[Any, ...],
        raw: RawRequest,
        call: _Call,
        accept_end: int,
        locale_end: int,
        request_media: tuple[str, str | None, str | None],
    ) -> None:
        if sum(len(k) + len(v) for k, v in key[1]) > HEADER_CACHE_MAX_CHARS:
            return
        assert call.content_type is not None
        facts = _HeaderFacts(
            media=call.media,
            fmt=call.fmt,
            accept_warnings=tuple(call.warnings[:accept_end]),
            auth=call.auth if self.credentials is None else None,
            locale=call.locale,
            locale_warnings=tuple(call.warnings[accept_end:locale_end]),
            request_media=request_media,
            content_type=call.content_type,
            redacted=auth.redact_headers(raw.headers),
        )
        cache = self._header_facts
        if len(cache) >= HEADER_CACHE_SIZE:
            cache.pop(next(iter(cache), ()), None)  # the oldest set
        cache[key] = facts

    def _run(
        self,
        raw: RawRequest,
        contract: Contract | None,
        query: tuple[tuple[str, str], ...],
        call: _Call,
        facts: _HeaderFacts | None = None,
        key: tuple[Any, ...] = (),
    ) -> Result:
        if facts is not None:
            call.media, call.fmt = facts.media, facts.fmt
            call.warnings.extend(facts.accept_warnings)
        else:
            negotiate(raw.headers, contract, call, self.settings.strict)
        if contract is None:
            known = ", ".join(f"{c.method} {c.path}" for c in self.contracts)
            raise ApiError(
                404,
                [Violation("path", f"a known agent call ({known})", f"{raw.method} {preview(raw.path, 80)}")],
                message=f"No agent call at {raw.path}. This fake serves: {known}.",
            )
        if raw.method in DESCRIBE_METHODS:
            return Result(describe(contract))
        if raw.method != contract.method:
            allow = ", ".join(sorted({*DESCRIBE_METHODS, contract.method}))
            raise ApiError(
                405,
                [Violation("method", f"one of {allow}", raw.method)],
                headers={"Allow": allow},
                message=f"The method {raw.method} is not allowed for {contract.name}; use {contract.method}.",
            )
        if call.not_acceptable is not None:
            raise call.not_acceptable
        if raw.body_problem is not None:
            raise raw.body_problem
        if facts is not None:
            cached_auth = facts.auth
            if cached_auth is None:
                cached_auth = auth.authenticate(raw.headers, self.settings, self.credentials, call.extra)
            call.auth = cached_auth
            call.locale = facts.locale
            call.warnings.extend(facts.locale_warnings)
            if query:
                call.select, select_warnings = parse_select(query)
                call.warnings.extend(select_warnings)
            call.content_type = facts.content_type
            family, codec, label = facts.request_media
        else:
            accept_end = len(call.warnings)
            _check_header_sizes(raw.headers)
            call.auth = auth.authenticate(raw.headers, self.settings, self.credentials, call.extra)
            call.locale, locale_warnings = read_locale(raw.headers)
            call.warnings.extend(locale_warnings)
            locale_end = len(call.warnings)
            call.select, select_warnings = parse_select(query)
            call.warnings.extend(select_warnings)
            family, codec, label = request_media(raw.headers, contract, call)
            if key:
                self._remember_facts(key, raw, call, accept_end, locale_end, (family, codec, label))
        pairs = codecs.decode_body(raw.body, family, codec, label)
        call.binding = binding = bind(pairs, contract, family)
        call.warnings.extend(binding.warnings)
        if self.settings.strict and call.warnings:
            raise ApiError(400, binding.violations + call.warnings)
        if binding.violations:
            raise ApiError(400, binding.violations)
        # Faults hit only calls that would otherwise succeed, so a rejected call never uses one up.
        type_ = binding.values.get("Type")
        call.fault = self.faults.match(contract.name, type_ if isinstance(type_, str) else None, call.auth.principal)
        if call.fault is not None:
            return call.fault.run(BEHAVIOURS[contract.behaviour], self.state, contract, binding)
        return BEHAVIOURS[contract.behaviour](self.state, contract, binding)


_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def _check_header_sizes(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        size = len(value.encode("utf-8", "surrogateescape"))
        if size > MAX_HEADER_VALUE:
            raise ApiError(
                400,
                [Violation(f"header.{name}", f"at most {MAX_HEADER_VALUE} bytes", f"{size} bytes")],
                message=f"The {name} header is {size} bytes long; the limit is {MAX_HEADER_VALUE} bytes.",
            )


def _summarise(binding: Binding | None) -> dict[str, Any]:
    if binding is None:
        return {}
    out: dict[str, Any] = {}
    for name, value in binding.values.items():
        out[name] = binding.images[name] if isinstance(value, bytes) and name in binding.images else value
    return out


def _loggable(value: Any) -> Any:
    if isinstance(value, bytes):
        return ImageInfo.of(value).to_json()
    if isinstance(value, dict):
        return None  # a GET description: not worth keeping per call
    return value


__all__ = ["Fake", "Outcome", "RawRequest"]
