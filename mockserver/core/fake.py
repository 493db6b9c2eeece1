"""The pure core: one request in (bytes and headers), one answer and one call record out.

Nothing here imports aiohttp; the hypothesis suite drives `Fake.process` without sockets.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from mockserver.core.answering.answers import DESCRIBE_METHODS, describe, encode_result, error_bytes, utf8
from mockserver.core.answering.behaviours import BEHAVIOURS, Result
from mockserver.core.answering.coverage import compute
from mockserver.core.answering.faults import FaultInjection, FaultSet
from mockserver.core.assertions import Assertions
from mockserver.core.body import codecs
from mockserver.core.body.binding import bind
from mockserver.core.body.hints import explain_misfiled
from mockserver.core.config import Settings
from mockserver.core.exchange import Outcome, RawRequest, new_outcome
from mockserver.core.headers import auth
from mockserver.core.headers.cache import HeaderCache, HeaderFacts, check_header_sizes
from mockserver.core.headers.locales import parse_select, read_locale
from mockserver.core.headers.negotiation import error_media, negotiate, request_media
from mockserver.core.loader import load_contracts
from mockserver.core.pending import CallFacts
from mockserver.core.refusals import record_refusal
from mockserver.core.storage.errors import StateFileDamaged, StateUnavailable, StateWriteFailed
from mockserver.core.storage.memory import ImageStore
from mockserver.core.storage.sqlite import SqliteStorage
from mockserver.core.storage.sqlite_tenants import TenantFiles
from mockserver.core.storage.state import State, Storage
from mockserver.core.summary import loggable_result, summarise
from mockserver.core.tenants import Tenants, tenant_of
from mockserver.core.vocabulary.contract import Contract, ContractSet
from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation, preview
from mockserver.core.vocabulary.journal import CallList


class Fake(Assertions, FaultInjection):
    """One fake SuperOffice tenant: contracts, settings and state, without any networking.

    `storage` says where the state lives; by default memory, or the SQLite file named by
    ``settings.state``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        contracts: ContractSet | None = None,
        storage: Storage | None = None,
        **overrides: Any,
    ):
        base = settings or Settings()
        self.settings = base.with_(**overrides) if overrides else base
        self.contracts = contracts if contracts is not None else load_contracts(self.settings.contracts)
        if storage is None and self.settings.state is not None:
            storage = SqliteStorage(self.settings.state)
        self.state = State(self.settings.first_id, self.settings.journal_limit, storage, self.settings.image_budget)
        self.faults = FaultSet()
        self.credentials = auth.load_store(self.settings.credentials)
        self.header_cache = HeaderCache()
        self.started = time.time()
        self.tenants: Tenants[Fake] | None = None
        self._tenant_files: TenantFiles | None = None
        if self.settings.tenants == "isolated":
            self.tenants = Tenants(self._new_tenant, self.settings.max_tenants)
            storage = self.state.storage
            if isinstance(storage, SqliteStorage) and storage.store is not None:
                self._tenant_files = TenantFiles(storage.store)
                for name in self._tenant_files.names():
                    self.tenants.get(name)  # reopen what a restart left, so /_calls shows every tenant

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
        return compute(self.contracts, self.state.journal.snapshot(), dropped=self.state.journal.dropped)

    @property
    def next_id(self) -> int:
        return self.state.ids.peek

    def reset(self) -> None:
        """Forget everything: ids start again at the first id; journal and images are cleared.

        With isolated tenants this resets every tenant too.
        """
        self.state.reset()
        self.faults.clear()
        for _name, tenant in self.tenants.items() if self.tenants is not None else ():
            tenant.reset()

    def release(self) -> None:
        """Release the state (a --state file is unlocked), every tenant's too. Idempotent."""
        for _name, tenant in self.tenants.items() if self.tenants is not None else ():
            tenant.state.close()
        self.state.close()

    def resolve_operation(self, path: str | None) -> str | None:
        """Turn a fault's `path` (agent path with any prefix, or operation name) into an operation name."""
        return self.contracts.operation(path)

    def tenant(self, name: str) -> Fake:
        """One tenant's own fake (``fake.tenant("Cust12345").calls``); needs ``tenants="isolated"``."""
        if self.tenants is None:
            raise ConfigError(
                f"tenants are shared in this fake, so {name!r} has no state of its own; "
                "start it with tenants='isolated'"
            )
        try:
            return self.tenants.get(name)
        except ApiError as err:
            raise ConfigError(err.text) from None

    def _new_tenant(self, name: str) -> Fake:
        storage = self._tenant_files.storage(name) if self._tenant_files is not None else None
        state = storage.path if storage is not None else None
        return Fake(self.settings.with_(tenants="shared", state=state), contracts=self.contracts, storage=storage)

    # ---- the pipeline ----------------------------------------------------------------------

    def process(self, raw: RawRequest) -> Outcome:
        """Answer one request and journal it. Never raises for anything a client can send."""
        if self.tenants is not None and (name := tenant_of(raw.path)):
            try:
                return self.tenants.get(name).process(raw)
            except ApiError as err:  # not a tenant name, or one too many: answered by the default tenant
                return record_refusal(self.state.journal, raw.method, raw.path, err)
        started = time.time()
        contract, prefix = self.contracts.match(raw.path)
        key, facts = self.header_facts(contract, raw.headers)
        query = tuple(parse_qsl(raw.query_string, keep_blank_values=True)) if raw.query_string else ()
        call = CallFacts(started, raw.method, raw.path, prefix, contract, query)
        headers: dict[str, str] = {}
        # The state's write lock, once the behaviour is about to run, until the call's record is committed.
        with contextlib.ExitStack() as writing:
            try:
                result = self._run(raw, contract, query, call, facts, key, writing)
                call.status = status = contract.response_status if contract and raw.method == contract.method else 200
                body, ctype = encode_result(contract, raw.method, result, call.answer)
                call.blob_id = result.blob_id
                call.result = loggable_result(result.value)
            except ApiError as err:
                call.status = status = err.status
                headers.update(err.headers)
                body = error_bytes(err, call.answer.fmt)
                ctype = utf8(error_media(call.answer))
                call.violations = tuple(err.violations)
                if call.fault is not None:
                    call.blob_id = call.fault.blob_id
            answer = call.answer
            call.answered(facts.redacted if facts is not None else auth.redact_headers(raw.headers), ctype)
            try:
                self.state.journal.add(call)
            except (StateWriteFailed, StateFileDamaged, StateUnavailable) as err:
                # The commit failed and took back everything the call stored (its id too): the answer and
                # the journal say so, and never that it was kept.
                status, ctype, headers = err.status, utf8(error_media(answer)), dict(err.headers)
                body = error_bytes(err, answer.fmt)
                call.not_stored(status, tuple(err.violations), ctype)
                self.state.journal.add(call)
        return new_outcome(status, body, ctype, headers, call, call.fault)

    def header_facts(
        self, contract: Contract | None, headers: Mapping[str, str]
    ) -> tuple[tuple[Any, ...], HeaderFacts | None]:
        """The header cache's key for this request and what it holds for it (None: not seen, or not cacheable)."""
        key: tuple[Any, ...] = (id(contract), tuple(headers.items()))
        try:
            return key, self.header_cache.get(key, (self.settings, self.credentials))
        except TypeError:  # a caller's own Mapping with unhashable values: work it out each time
            return (), None

    def _run(
        self,
        raw: RawRequest,
        contract: Contract | None,
        query: tuple[tuple[str, str], ...],
        call: CallFacts,
        facts: HeaderFacts | None = None,
        key: tuple[Any, ...] = (),
        writing: contextlib.ExitStack | None = None,
    ) -> Result:
        call.answer = answer = (
            facts.answer if facts is not None else negotiate(raw.headers, contract, self.settings.strict)
        )
        call.warnings += answer.warnings
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
        if answer.not_acceptable is not None:
            raise answer.not_acceptable
        if raw.body_problem is not None:
            raise raw.body_problem
        if facts is not None:
            call.auth = facts.auth or auth.authenticate(
                raw.headers, self.settings, self.credentials, call.fresh_extra()
            )
            call.locale = facts.locale
            call.warnings += facts.locale_warnings
            self._select(call, query)
            call.content_type = facts.content_type
            body_media = facts.request_media
        else:
            check_header_sizes(raw.headers)
            call.auth = auth.authenticate(raw.headers, self.settings, self.credentials, call.fresh_extra())
            call.locale, locale_warnings = read_locale(raw.headers)
            call.warnings += tuple(locale_warnings)
            self._select(call, query)
            value = raw.headers.get("Content-Type")
            call.content_type = value if value is not None and value.strip() else None
            body_media = request_media(raw.headers, contract)
            if key:
                assert call.content_type is not None
                self.header_cache.remember(
                    key,
                    HeaderFacts(
                        answer=answer,
                        auth=call.auth if self.credentials is None else None,
                        locale=call.locale,
                        locale_warnings=tuple(locale_warnings),
                        request_media=body_media,
                        content_type=call.content_type,
                        redacted=auth.redact_headers(raw.headers),
                    ),
                )
        pairs = codecs.decode_body(raw.body, body_media.family, body_media.codec, body_media.label)
        binding = bind(pairs, contract, body_media.family)
        call.request = summarise(binding)
        call.warnings += tuple(binding.warnings)
        if self.settings.strict and call.warnings:
            raise ApiError(400, [*binding.violations, *call.warnings])
        if binding.violations:
            raise ApiError(400, explain_misfiled(body_media.family, pairs, binding.violations))
        # Faults hit only calls that would otherwise succeed, so a rejected call never uses one up.
        type_ = binding.values.get("Type")
        call.fault = self.faults.match(contract.name, type_ if isinstance(type_, str) else None, call.auth.principal)
        if writing is not None:
            writing.enter_context(self.state.writing())
        if call.fault is not None:
            return call.fault.run(BEHAVIOURS[contract.behaviour], self.state, contract, binding)
        return BEHAVIOURS[contract.behaviour](self.state, contract, binding)

    @staticmethod
    def _select(call: CallFacts, query: tuple[tuple[str, str], ...]) -> None:
        if query:
            call.select, select_warnings = parse_select(query)
            call.warnings += tuple(select_warnings)


__all__ = ["Fake", "Outcome", "RawRequest"]
