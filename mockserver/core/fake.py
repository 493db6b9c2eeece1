"""The pure core: one request in (bytes and headers), one answer and one call record out.

Nothing here imports aiohttp; the hypothesis suite drives `Fake.process` without sockets. A
`Fake` composes its parts: the state (ids, images, journal), the faults a test injects, the
assertions over its journal, the header cache, and with isolated tenants one fake per tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from mockserver.core.answering.answers import (
    DESCRIBE_METHODS,
    describe,
    encode_result,
    error_bytes,
    loggable_result,
    utf8,
)
from mockserver.core.answering.behaviours import BEHAVIOURS, Result
from mockserver.core.answering.coverage import compute
from mockserver.core.answering.faults import Fault, FaultSet, InjectedFault
from mockserver.core.assertions import DEFAULT_WAIT, Assertions, SaveAssertions, SaveQuery
from mockserver.core.body import codecs
from mockserver.core.body.binding import Binding, bind, explain_misfiled
from mockserver.core.config import Settings
from mockserver.core.exchange import CallFacts, Outcome, RawRequest, record_online_refusal, record_refusal
from mockserver.core.headers import auth
from mockserver.core.headers.credentials import CredentialStore
from mockserver.core.headers.locales import parse_select
from mockserver.core.headers.negotiation import Answer, RequestMedia, error_media, negotiate
from mockserver.core.headers.redaction import redact_query
from mockserver.core.headers.steps import HeaderCache, HeaderFacts, Key, read_headers
from mockserver.core.loader import load_contracts
from mockserver.core.online import credential_checks
from mockserver.core.online.clock import Clock
from mockserver.core.online.clock_control import clock_from_setting
from mockserver.core.online.login import Login
from mockserver.core.online.notify import attach_notifier
from mockserver.core.online.persist import attach_state_file, online_state_path
from mockserver.core.online.tenant_life import new_online_life
from mockserver.core.storage.errors import StateFileDamaged, StateUnavailable, StateWriteFailed
from mockserver.core.storage.memory import ImageStore
from mockserver.core.storage.sqlite import SqliteStorage
from mockserver.core.storage.sqlite_tenants import TenantFiles
from mockserver.core.storage.state import State, Storage
from mockserver.core.tenants import Tenants, tenant_of
from mockserver.core.vocabulary.budget import Budget
from mockserver.core.vocabulary.contract import Contract, ContractSet
from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation, preview
from mockserver.core.vocabulary.journal import CallList, CallLog
from mockserver.core.vocabulary.records import CallRecord


class Fake(SaveAssertions):
    """One fake SuperOffice tenant: contracts, settings and state, without any networking.

    `storage` says where the state lives; by default memory, or the SQLite file named by
    ``settings.state``. `budgets` (images, journal) are the ones a tenant shares with its fake.
    `clock` is a `Clock` to share (isolated tenants share their fake's), or the ``clock``
    setting's text (``"frozen"``, ``"2026-12-07T10:00:00Z"``).
    """

    # With isolated tenants, a tenant's own name ('' for the default tenant, the fake itself).
    name: str = ""
    # The event loop that answers this fake's requests; set by the server that serves it.
    serving_loop: asyncio.AbstractEventLoop | None = None

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        contracts: ContractSet | None = None,
        storage: Storage | None = None,
        budgets: tuple[Budget, Budget] | None = None,
        clock: Clock | str | None = None,
        **overrides: Any,
    ):
        if isinstance(clock, str):  # the setting, given by keyword like every other one
            overrides["clock"], clock = clock, None
        base = settings or Settings()
        self.settings = base.with_(**overrides) if overrides else base
        self.contracts = contracts if contracts is not None else load_contracts(self.settings.contracts)
        # What every time rule reads (the `clock` setting; tests move it): credential expiry, timed states.
        self.clock = clock if clock is not None else clock_from_setting(self.settings.clock)
        s = self.settings  # Online mode's hosts and tenants, else None:
        self.online = new_online_life(s.online_hosts, s.online_home, s.online_tenants, s.online_valid_for, self.clock)
        if self.online is not None and s.state is not None:  # hosts and states across a restart
            attach_state_file(self.online, online_state_path(s.state))
        self.notifier = attach_notifier(self.online, s.online_state_change_url) if self.online is not None else None
        if storage is None and self.settings.state is not None:
            storage = SqliteStorage(self.settings.state)
        images, journal = budgets or (Budget(self.settings.image_budget), Budget(self.settings.journal_budget))
        self.state = State(self.settings.first_id, self.settings.journal_limit, storage, images, journal)
        self.login = Login(self.settings, self.clock)  # the login service: the credentials it issues
        self.faults = FaultSet(self.resolve_operation)
        self.expect = Assertions(self.state.journal)
        self.credentials = auth.load_store(self.settings.credentials)
        self.header_cache = HeaderCache()
        self.started = time.time()
        self.tenants: Tenants[Fake] | None = None
        self._tenant_files: TenantFiles | None = None
        if self.settings.tenants == "isolated":
            self.tenants = Tenants(self._new_tenant, self.settings.max_tenants)
            storage = self.state.storage
            if isinstance(storage, SqliteStorage) and storage.store is not None:
                self._tenant_files = TenantFiles(storage.store, cache=storage.cache)
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
        self.login.book.clear()
        if self.online is not None:
            self.online.reset()
        if self.notifier is not None:
            self.notifier.notifications.clear()
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

    def _journal_of(self, name: str) -> CallLog:
        """The journal of tenant `name` ('' or one past the limit: the default tenant's)."""
        try:
            return self.tenants.get(name).state.journal if name and self.tenants is not None else self.state.journal
        except ApiError:
            return self.state.journal

    def _new_tenant(self, name: str) -> Fake:
        storage = self._tenant_files.storage(name) if self._tenant_files is not None else None
        state = storage.path if storage is not None else None
        budgets = (self.state.images.shared, self.state.journal.budget)  # one budget for every tenant
        settings = self.settings.with_(tenants="shared", state=state, online_hosts=())
        tenant = Fake(settings, contracts=self.contracts, storage=storage, clock=self.clock, budgets=budgets)
        tenant.name = name
        tenant.login = self.login  # one login service (the credentials it issued) for every tenant
        return tenant

    def unmade_tenant(self, name: str) -> Fake:
        """What a tenant that has had no call yet looks like (empty), without making it: for reading."""
        tenant = Fake(
            self.settings.with_(tenants="shared", state=None, online_hosts=()),
            contracts=self.contracts,
            clock=self.clock,
        )
        tenant.name = name
        return tenant

    # ---- credentials that expire (core/online) -----------------------------------------------

    def oauth_consent(self, context: str, client_id: str, client_secret: str | None = None) -> dict[str, Any]:
        """A first OAuth token pair for tenant `context`, as a user's consent would give (no browser)."""
        return self.login.consent(context, client_id, client_secret)

    def assert_authenticated(self, times: int | None = None) -> int:
        """How many times the client logged in (system user or refresh); with `times`, exactly that many."""
        return credential_checks.check_authenticated(self.login.book.events(), times)

    def assert_reauthenticated_after_401(self) -> None:
        """The client logged in again after an expired credential was refused, and only then."""
        credential_checks.check_reauthenticated_after_401(self.login.book.events())

    def assert_no_expired_credential_reused(self) -> None:
        """No expired ticket or token was sent (and refused) more than once."""
        credential_checks.check_no_expired_reuse(self.login.book.events())

    # ---- faults (the parts: `self.faults`) ---------------------------------------------------

    def inject(self, kind: str | Fault | Mapping[str, Any], **options: Any) -> InjectedFault:
        """Add a fault; it fires on the next matching call (or `times`, or a seeded `fraction`).

        ``fake.inject("status", status=503)``; a bad kind or option raises ConfigError naming it.
        """
        return self.faults.inject(kind, **options)

    def inject_all(self, specs: Iterable[Fault | Mapping[str, Any]]) -> list[InjectedFault]:
        """Inject several faults (the pytest marker's ``faults=[...]``)."""
        return [self.faults.inject(spec) for spec in specs]

    def clear_faults(self) -> int:
        """Remove every fault; return how many there were."""
        return self.faults.clear()

    # ---- assertions (the part: `self.expect`) ------------------------------------------------

    # assert_saved, wait_for and wait_for_sync come from SaveAssertions, and run here:

    def _saved(self, query: SaveQuery) -> CallRecord:
        __tracebackhide__ = True
        return self.expect._saved(query)

    async def _saved_soon(self, query: SaveQuery, timeout: float) -> CallRecord:
        __tracebackhide__ = True
        return await self.expect._saved_soon(query, timeout)

    def _saved_within(self, query: SaveQuery, timeout: float) -> CallRecord:
        __tracebackhide__ = True
        return self.expect._saved_within(query, timeout, self.serving_loop)

    def assert_no_violations(self) -> None:
        """Assert no call was rejected; the message lists every violation of every rejected call."""
        __tracebackhide__ = True
        self.expect.assert_no_violations()

    def assert_no_warnings(self) -> None:
        """Assert no call drew a warning (what `strict=True` would have rejected)."""
        __tracebackhide__ = True
        self.expect.assert_no_warnings()

    async def wait_for_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Wait until at least `n` calls (matching `filters`, as for `calls.filter`) are recorded.

        Works whether the fake serves in this loop or from a thread. Returns the matching calls;
        raises AssertionError naming what did arrive when `timeout` seconds pass first.
        """
        __tracebackhide__ = True
        return await self.expect.wait_for_calls(n, timeout, **filters)

    def wait_for_calls_sync(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Block until at least `n` calls are recorded: for sync tests with a threaded fake."""
        __tracebackhide__ = True
        return self.expect.wait_for_calls_sync(n, timeout, serving_loop=self.serving_loop, **filters)

    def check_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """At least `n` calls matching `filters` are recorded now, or the AssertionError waiting would raise."""
        __tracebackhide__ = True
        return self.expect.check_calls(n, timeout, **filters)

    # ---- the pipeline ----------------------------------------------------------------------

    def process(self, raw: RawRequest) -> Outcome:
        """Answer one request and journal it. Never raises for anything a client can send."""
        if self.online is not None and (refused := self.online.gate(raw.host, tenant_of(raw.path))) is not None:
            contract, prefix = self.contracts.match(raw.path)
            return record_online_refusal(self._journal_of(refused.tenant), raw, contract, prefix, refused.error)
        if self.tenants is not None and (name := tenant_of(raw.path)):
            try:
                return self.tenants.get(name).process(raw)
            except ApiError as err:  # not a tenant name, or one too many: answered by the default tenant
                return record_refusal(self.state.journal, raw.method, raw.path, err)
        contract, prefix = self.contracts.match(raw.path)
        query = tuple(parse_qsl(raw.query_string, keep_blank_values=True)) if raw.query_string else ()
        call = CallFacts(time.time(), raw.method, raw.path, prefix, contract, redact_query(query))
        headers: dict[str, str] = {}
        # The state's write lock, once the behaviour is about to run, until the call's record is committed.
        with contextlib.ExitStack() as writing:
            try:
                result = self._run(raw, contract, call, writing)
                call.status = status = contract.response_status if contract and raw.method == contract.method else 200
                kept = loggable_result(result.value)  # what the record keeps of it: never bytes
                body, ctype = encode_result(contract, raw.method, result, call.answer)
                call.blob_id, call.result = result.blob_id, kept
            except ApiError as err:
                call.status = status = err.status
                headers.update(err.headers)
                body = error_bytes(err, call.answer.fmt)
                ctype = utf8(error_media(call.answer))
                call.violations = tuple(err.violations)
                if call.fault is not None:
                    call.blob_id = call.fault.blob_id
            answer = call.answer
            if raw.host:  # Online mode: the journal names the host the call arrived on
                call.extra = {**(call.extra or {}), "host": raw.host}
            call.answered(call.headers or auth.redact_headers(raw.headers), ctype)
            try:
                self.state.journal.append(call)
            except (StateWriteFailed, StateFileDamaged, StateUnavailable) as err:
                # The commit failed and took back everything the call stored (its id too): the answer and
                # the journal say so, and never that it was kept.
                status, ctype, headers = err.status, utf8(error_media(answer)), dict(err.headers)
                body = error_bytes(err, answer.fmt)
                call.not_stored(status, tuple(err.violations), ctype)
                self.state.journal.append(call)
        return Outcome(status, body, ctype, headers, call, call.fault)

    def precheck(self, raw: RawRequest) -> Outcome | None:
        """Answer (and journal) `raw` now if its body cannot change the answer; otherwise None.

        `raw` is the request without its body: the shell calls this before reading any of it.
        A request that fails routing, the method, Accept under --strict or a header step gets
        the same answer whatever its body holds, through `process`, so it is journaled exactly
        as it would be with its body (tests/properties/test_precheck.py).
        """
        return None if self._body_matters(raw) else self.process(raw)

    def _body_matters(self, raw: RawRequest) -> bool:
        """True when every step before the body passes, so only the body can decide the answer."""
        if raw.body_problem is not None:
            return False
        contract, _prefix = self.contracts.match(raw.path)
        if contract is None or raw.method in DESCRIBE_METHODS or raw.method != contract.method:
            return False
        key, cached = self.header_cache.lookup(contract, raw.headers, (self.settings, self.credentials))
        answer = self._negotiate(raw, contract, cached)
        if answer.not_acceptable is not None:
            return False
        store = None if self.login.issued(raw.headers) else self.credentials
        try:
            facts = self._header_facts(raw, contract, key, cached, answer, {}, store)
        except ApiError:
            return False
        return facts.refusal is None

    def _run(
        self, raw: RawRequest, contract: Contract | None, call: CallFacts, writing: contextlib.ExitStack | None = None
    ) -> Result:
        """The steps of one call, in the order the wire sees them; each may raise the call's ApiError."""
        key, cached = self.header_cache.lookup(contract, raw.headers, (self.settings, self.credentials))
        call.answer = answer = self._negotiate(raw, contract, cached)
        call.warnings += answer.warnings
        contract = self._route(raw, contract)
        if raw.method in DESCRIBE_METHODS:
            return Result(describe(contract))
        if answer.not_acceptable is not None:
            raise answer.not_acceptable
        if raw.body_problem is not None:
            raise raw.body_problem
        # Issued tickets and tokens expire: the login service sees every call, cached headers or not.
        issued = self.login.check(raw.headers, call)
        store = None if issued is not None else self.credentials  # a credential issued here is no store's
        media = self._take_headers(call, self._header_facts(raw, contract, key, cached, answer, call, store))
        call.auth = issued or call.auth
        binding = self._bind(raw, contract, media, call)
        return self._act(contract, binding, call, writing)

    def _negotiate(self, raw: RawRequest, contract: Contract | None, cached: HeaderFacts | None) -> Answer:
        """The answer's media type, from Accept (or Content-Type): needed first, since errors use it too."""
        return cached.answer if cached is not None else negotiate(raw.headers, contract, self.settings.strict)

    def _route(self, raw: RawRequest, contract: Contract | None) -> Contract:
        """The call's contract, or its 404 (no such call) or 405 (not its method)."""
        if contract is None:
            known = ", ".join(f"{c.method} {c.path}" for c in self.contracts)
            raise ApiError(
                404,
                [Violation("path", f"a known agent call ({known})", f"{raw.method} {preview(raw.path, 80)}")],
                message=f"No agent call at {raw.path}. This fake serves: {known}.",
            )
        if raw.method != contract.method and raw.method not in DESCRIBE_METHODS:
            allow = ", ".join(sorted({*DESCRIBE_METHODS, contract.method}))
            raise ApiError(
                405,
                [Violation("method", f"one of {allow}", raw.method)],
                headers={"Allow": allow},
                message=f"The method {raw.method} is not allowed for {contract.name}; use {contract.method}.",
            )
        return contract

    def _header_facts(
        self,
        raw: RawRequest,
        contract: Contract,
        key: Key,
        cached: HeaderFacts | None,
        answer: Answer,
        call: CallFacts | dict[str, Any],
        store: CredentialStore | None,
    ) -> HeaderFacts:
        """What the header steps say of this request: kept from an earlier call, or worked out now and kept.

        `store` is the credential store this call's credential is checked against (none for a
        ticket or token the login service issued).
        """
        if cached is not None:
            if cached.auth is not None:
                return cached
            extra = call.fresh_extra() if isinstance(call, CallFacts) else call
            return HeaderFacts(
                answer=cached.answer,
                auth=auth.authenticate(raw.headers, self.settings, store, extra),
                locale=cached.locale,
                locale_warnings=cached.locale_warnings,
                request_media=cached.request_media,
                content_type=cached.content_type,
                redacted=cached.redacted,
            )
        extra = call.fresh_extra() if isinstance(call, CallFacts) else call
        facts = read_headers(raw.headers, contract, answer, self.settings, store, extra)
        self.header_cache.remember(key, facts, per_call_auth=self.credentials is not None)
        return facts

    def _take_headers(self, call: CallFacts, facts: HeaderFacts) -> RequestMedia:
        """The call keeps what its headers said and the $select of its query; the body's media type,
        or the Content-Type step's refusal."""
        assert facts.auth is not None
        call.auth = facts.auth
        call.locale = facts.locale
        call.warnings += facts.locale_warnings
        call.headers = facts.redacted
        if call.query:
            call.select, select_warnings = parse_select(call.query)
            call.warnings += tuple(select_warnings)
        call.content_type = facts.content_type
        if facts.refusal is not None:
            raise facts.refusal
        assert facts.request_media is not None
        return facts.request_media

    def _bind(self, raw: RawRequest, contract: Contract, media: RequestMedia, call: CallFacts) -> Binding:
        """Decode the body and bind it to the contract's properties, or raise its 400."""
        pairs = codecs.decode_body(raw.body, media.family, media.codec, media.label)
        binding = bind(pairs, contract, media.family)
        call.request = binding.summary()
        call.warnings += tuple(binding.warnings)
        if self.settings.strict and call.warnings:
            raise ApiError(400, [*binding.violations, *call.warnings])
        if binding.violations:
            raise ApiError(400, explain_misfiled(media.family, pairs, binding.violations))
        return binding

    def _act(
        self, contract: Contract, binding: Binding, call: CallFacts, writing: contextlib.ExitStack | None = None
    ) -> Result:
        """Run the contract's behaviour, or the fault that fires on this call instead."""
        # Faults hit only calls that would otherwise succeed, so a rejected call never uses one up.
        type_ = binding.values.get("Type")
        call.fault = self.faults.match(contract.name, type_ if isinstance(type_, str) else None, call.auth.principal)
        if writing is not None:
            writing.enter_context(self.state.writing())
        if call.fault is not None:
            return call.fault.run(BEHAVIOURS[contract.behaviour], self.state, contract, binding)
        return BEHAVIOURS[contract.behaviour](self.state, contract, binding)


__all__ = ["Fake", "Outcome", "RawRequest"]
