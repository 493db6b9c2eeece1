"""A fake served elsewhere (a container, another process), driven over its /_ routes like one in-process.

``fake = mockserver.connect("http://localhost:8080")`` has the API of an in-process fake:
``fake.calls`` (the same `CallRecord` types), ``fake.assert_saved(...)``, ``fake.inject(...)``,
``fake.reset()``, ``fake.images[33]``. The assertions run in the served fake (``POST /_assert``),
so a failure's message is the text the in-process fake would give. Every method is one short
blocking request; the waits (`wait_for`, `wait_for_calls`) are awaitable, and blocking as
``*_sync``. Standard library only: nothing to install beside the package.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from ..core.answering.faults import Fault, checked_fault, fault_spec
from ..core.assertions import DEFAULT_WAIT, ExpectationFailed, NearMiss, SaveAssertions, SaveQuery
from ..core.loader import load_contracts
from ..core.vocabulary.journal import CallList
from ..core.vocabulary.records import CallRecord
from ..core.vocabulary.wire import record_from_json
from ..http.expectations import MAX_WAIT
from .admin_http import AdminHttp, RemoteFault, RemoteImages


@functools.cache
def _save_path() -> str:
    contracts = load_contracts(None)
    return next((c.path for c in contracts if c.name == "SaveImageStream"), contracts.contracts[0].path)


class RemoteFake(SaveAssertions):
    """A served fake at `url`, driven over HTTP with the in-process fake's API (see the module notes)."""

    def __init__(self, url: str, admin_token: str | None = None, *, prefix: str = "") -> None:
        self.base = url.rstrip("/")
        self.prefix = prefix
        self.admin_token = admin_token
        self.http = AdminHttp(self.url, admin_token)
        self.images = RemoteImages(self.http, lambda: self.calls)

    # ---- where it is ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL agent calls go to (with the tenant prefix for `tenant(...)`)."""
        return self.base + self.prefix

    @property
    def api_url(self) -> str:
        """The URL of SaveImageStream itself."""
        return self.url + _save_path()

    def tenant(self, name: str) -> RemoteFake:
        """One isolated tenant's view: ``fake.tenant("Cust12345").calls``."""
        return RemoteFake(self.base, self.admin_token, prefix=f"/{name.strip('/')}")

    # ---- HTTP -------------------------------------------------------------------------------

    def _assert(self, name: str, kwargs: Mapping[str, Any], wait: float = 0) -> list[CallRecord]:
        body: dict[str, Any] = {name: {k: v for k, v in kwargs.items() if v is not None}}
        left = wait  # a wait past MAX_WAIT is asked for again, MAX_WAIT at a time, until it is over
        while True:
            chunk = min(left, MAX_WAIT)
            left -= chunk
            answer = self.http.request("POST", "/_assert", {**body, "wait": chunk} if wait else body, wait=chunk)
            if answer["passed"]:
                return [record_from_json(r) for r in answer["calls"]]
            if left <= 0:
                raise ExpectationFailed(answer["message"], tuple(_near_miss(m) for m in answer["near_misses"]))

    # ---- the in-process fake's API ----------------------------------------------------------

    @property
    def calls(self) -> CallList:
        """Every recorded call, oldest first, as `CallRecord`s."""
        return CallList([record_from_json(r) for r in self.http.get("/_calls")["calls"]])

    @property
    def next_id(self) -> int:
        return int(self.http.get("/_health")["next_id"])

    def health(self) -> dict[str, Any]:
        """What /_health says: version, settings, counts."""
        return self.http.get("/_health")

    def coverage(self) -> dict[str, Any]:
        return self.http.get("/_coverage")

    def reset(self) -> None:
        """Forget everything: ids start again at the first id; journal, images and faults are cleared."""
        self.http.request("POST", "/_reset")

    def clear_calls(self) -> int:
        """Clear the journal (ids go on); return how many calls it held."""
        return int(self.http.request("DELETE", "/_calls")["cleared"])

    def inject(self, kind: str | Fault | Mapping[str, Any], **options: Any) -> RemoteFault:
        """Add a fault, checked here first as the in-process fake checks it (ConfigError)."""
        spec = fault_spec(kind, options)
        checked_fault(spec)
        sent = {k: v for k, v in spec.items() if v is not None}
        return RemoteFault(self.http, self.http.request("POST", "/_faults", sent)["faults"][0])

    def inject_all(self, specs: Iterable[Fault | Mapping[str, Any]]) -> list[RemoteFault]:
        return [self.inject(spec) for spec in specs]

    def clear_faults(self) -> int:
        """Remove every fault; return how many there were."""
        return int(self.http.request("DELETE", "/_faults")["cleared"])

    # assert_saved, wait_for and wait_for_sync come from SaveAssertions, and run in the served fake:

    def _saved(self, query: SaveQuery) -> CallRecord:
        return self._assert("assert_saved", _saved(query))[0]

    def _saved_within(self, query: SaveQuery, timeout: float) -> CallRecord:
        return self._assert("assert_saved", _saved(query), wait=timeout)[0]

    async def _saved_soon(self, query: SaveQuery, timeout: float) -> CallRecord:
        return await asyncio.to_thread(self._saved_within, query, timeout)

    def assert_no_violations(self) -> None:
        self._assert("assert_no_violations", {})

    def assert_no_warnings(self) -> None:
        self._assert("assert_no_warnings", {})

    def wait_for_calls_sync(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """Block until at least `n` calls matching `filters` are recorded; AssertionError after `timeout`.

        A wait past the server's bound on one request (30 s) is asked for again until it is over.
        """
        return CallList(self._assert("wait_for_calls", {"n": n, **filters}, wait=timeout))

    async def wait_for_calls(self, n: int = 1, timeout: float = DEFAULT_WAIT, **filters: Any) -> CallList:
        """`wait_for_calls_sync` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_calls_sync, n, timeout, **filters)

    def __repr__(self) -> str:
        return f"<RemoteFake {self.url}>"


def _near_miss(data: Mapping[str, Any]) -> NearMiss:
    differences = tuple((d["field"], d["expected"], d["got"]) for d in data["differences"])
    return NearMiss(data["seq"], data["call"], differences)


def _saved(query: SaveQuery) -> dict[str, Any]:
    """The query as `POST /_assert` takes it (the image in base64)."""
    image = base64.b64encode(query.image).decode("ascii") if query.image is not None else None
    return {**asdict(query), "image": image}


def connect(url: str, admin_token: str | None = None) -> RemoteFake:
    """A served fake at `url` (``http://host:port``), with its admin token when it has one."""
    return RemoteFake(url, admin_token)
