"""The proxy's core: check each request as the fake would, check the upstream's answer, journal both.

`ProxyCore` is a `Fake` whose journal holds the exchanges with the upstream, so the journal,
the assertion helpers, coverage and the /_ routes work on a proxy as on a fake. It never runs a
behaviour itself: requests are checked by a private *validator*, a second fake serving the same
contracts with every behaviour replaced by one that does nothing (stores no image, takes no id,
checks no reference to a blob: those belong to the tenant). Its pipeline is the fake's, so a
request draws exactly the violations and warnings the fake would give it; its record becomes
the proxy's, with the upstream's status, id, media type and the drift found in its answer.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from mockserver.core.answering.behaviours import BEHAVIOURS, Result
from mockserver.core.answering.faults import Fault, InjectedFault
from mockserver.core.body.binding import Binding
from mockserver.core.config import Settings
from mockserver.core.exchange import Outcome, RawRequest
from mockserver.core.fake import Fake
from mockserver.core.headers.auth import REDACTED
from mockserver.core.proxy.drift import UpstreamAnswer, check_answer, no_answer
from mockserver.core.proxy.shapes import KINDS, Drift
from mockserver.core.storage.state import State
from mockserver.core.vocabulary.contract import Contract, ContractSet
from mockserver.core.vocabulary.errors import ConfigError
from mockserver.core.vocabulary.records import CallRecord

VALIDATE = "proxy.validate"
_NOTHING: dict[str, Any] = {"int32": 0, "bytes": b"", "none": None}
# Headers of the upstream's answer the record keeps (the ones a client acts on).
KEPT_ANSWER_HEADERS = ("Content-Type", "WWW-Authenticate", "Allow", "Retry-After", "Location")
CUT = "…"  # what errors.preview puts where it cuts a value short
ERROR_MEDIA = "application/json"  # the proxy's own 502, when the upstream gave no answer


def _validated(state: State, contract: Contract, bound: Binding) -> Result:
    """The validator's behaviour: the request passed every check; the upstream does the work."""
    return Result(_NOTHING[contract.result])


# Registered directly rather than with @behaviour, which would also check blob references.
BEHAVIOURS.setdefault(VALIDATE, _validated)


def validating(contracts: ContractSet) -> ContractSet:
    """The same contracts, each with the behaviour that does nothing."""
    return ContractSet.of(replace(c, behaviour=VALIDATE) for c in contracts)


@dataclass(frozen=True, slots=True)
class Upstream:
    """The tenant's base URL, e.g. ``https://sod.superoffice.com/Cust12345`` (no trailing slash)."""

    base: str

    @classmethod
    def parse(cls, text: str) -> Upstream:
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"the upstream must be an http:// or https:// URL with a host (got {text!r})")
        if parts.username is not None or parts.password is not None:
            raise ConfigError("the upstream URL must not hold credentials: clients send their own Authorization")
        if parts.query or parts.fragment:
            raise ConfigError(f"the upstream URL must not have a query or fragment (got {text!r})")
        return cls(f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}")

    def url_for(self, raw_path: str) -> str:
        """Where a request for `raw_path` (path and query, as sent) goes: its path from ``/api/`` on the base.

        Whatever tenant prefix the client put before ``/api/`` is replaced by the upstream's.
        """
        path, sep, query = raw_path.partition("?")
        start = path.lower().find("/api/")
        return self.base + (path[start:] if start >= 0 else path) + sep + query


def secrets_of(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values a request carries (credentials, app token, XSRF value, cookie values)."""
    found = []
    for key, value in headers.items():
        lowered, value = key.lower(), value.strip()
        if lowered in ("authorization", "proxy-authorization"):
            scheme, _, credentials = value.partition(" ")
            found.append(credentials.strip() or value)
            if scheme.lower() == "basic":
                with contextlib.suppress(binascii.Error, ValueError):  # not base64: the fake says so
                    found.append(base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[2])
        elif lowered in ("so-apptoken", "x-xsrf-token"):
            found.append(value)
        elif lowered == "cookie":
            found += [part.partition("=")[2].strip() for part in value.split(";")]
    return tuple(sorted({s for s in found if len(s) >= 3}, key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret the request carried replaced (an upstream may echo one back).

    A preview cut short (``'…'``) inside a secret shows its start: that is replaced too.
    """
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
        if CUT in text:
            parts = text.split(CUT)
            for i, part in enumerate(parts[:-1]):
                start = next((n for n in range(len(secret) - 1, 2, -1) if part.endswith(secret[:n])), 0)
                if start:
                    parts[i] = part[:-start] + REDACTED
            text = CUT.join(parts)
    return text


class DriftTally:
    """Drift since the start (or the last reset), by kind: a count and the first example of each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.exchanges = 0
            self.with_drift = 0
            self.kinds: dict[str, dict[str, Any]] = {}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(k["count"] for k in self.kinds.values())

    def add(self, record: CallRecord, found: Iterable[Drift]) -> None:
        items = list(found)
        with self._lock:
            self.exchanges += 1
            self.with_drift += bool(items)
            for item in items:
                kind = self.kinds.get(item.kind)
                if kind is None:
                    example = {"seq": record.seq, "method": record.method, "path": record.path, **item.to_json()}
                    self.kinds[item.kind] = {"count": 1, "meaning": KINDS.get(item.kind, ""), "example": example}
                else:
                    kind["count"] += 1

    def summary(self) -> dict[str, Any]:
        """What /_drift answers: totals, then each kind seen with its count and first example."""
        with self._lock:
            kinds = {name: dict(self.kinds[name]) for name in KINDS if name in self.kinds}
            return {
                "drift": sum(k["count"] for k in kinds.values()),
                "exchanges": self.exchanges,
                "exchanges_with_drift": self.with_drift,
                "kinds": kinds,
            }


class ProxyCore(Fake):
    """The journal and checks of a proxy in front of `upstream`; the shell in `http.proxy` forwards."""

    def __init__(
        self,
        upstream: str | Upstream,
        settings: Settings | None = None,
        *,
        contracts: ContractSet | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(settings, contracts=contracts, **overrides)
        if self.settings.tenants != "shared":
            raise ConfigError("a proxy journals every tenant prefix together: it has one upstream (tenants='shared')")
        self.upstream = upstream if isinstance(upstream, Upstream) else Upstream.parse(upstream)
        # Credentials are the tenant's to check: the validator checks only their shape.
        checks = self.settings.with_(journal_limit=1, state=None, credentials=None, log_calls=False)
        self.validator = Fake(checks, contracts=validating(self.contracts))
        self.drift = DriftTally()

    def process(self, raw: RawRequest) -> Outcome:
        """Answer a request the proxy does not forward (too large, cut short) as the fake would, and journal it."""
        outcome = self.validator.process(raw)
        record = self._journal(outcome.record, extra={"upstream": {"forwarded": False}})
        return replace(outcome, entry=record)

    def record_exchange(
        self,
        raw: RawRequest,
        answer: UpstreamAnswer | None,
        failure: str | None = None,
        *,
        url: str = "",
        started: float | None = None,
    ) -> CallRecord:
        """Check `raw` as the fake would, check the upstream's `answer` (None: `failure` says why), journal both.

        `started` is when the request arrived (``time.time()``); the record carries it.
        """
        secrets = secrets_of(raw.headers)
        side = self.validator.process(raw).record
        if started is not None:
            side = replace(side, time=started)
        upstream: dict[str, Any] = {"forwarded": True, "url": scrub(url, secrets), "fake_status": side.status}
        if answer is None:
            found: tuple[Drift, ...] = (no_answer(scrub(failure or "no answer", secrets)),)
            upstream["error"] = found[0].got
            changes: dict[str, Any] = {"status": 502, "blob_id": None, "result": None, "response_type": ERROR_MEDIA}
        else:
            contract = self.contracts.match(raw.path)[0]
            checked = check_answer(contract, raw.method, answer, side.status, side.violations)
            found = tuple(
                replace(d, expected=scrub(d.expected, secrets), got=scrub(d.got, secrets)) for d in checked.drift
            )
            upstream["status"] = answer.status
            upstream["elapsed_ms"] = round(answer.elapsed_ms, 1)
            if answer.size is not None:  # passed on as it came; only its first bytes were checked
                upstream["size"], upstream["kept"] = answer.size, len(answer.body)
            upstream["headers"] = {
                name: scrub(answer.headers[name], secrets) for name in KEPT_ANSWER_HEADERS if name in answer.headers
            }
            blob_id = checked.result if isinstance(checked.result, int) and 200 <= answer.status < 300 else None
            changes = {
                "status": answer.status,
                "blob_id": blob_id,
                "result": checked.result,
                "response_type": checked.media_type,
            }
        extra = {"upstream": upstream, "drift": [d.to_json() for d in found]}
        record = self._journal(side, extra=extra, **changes)
        self.drift.add(record, found)
        return record

    def _journal(self, side: CallRecord, *, extra: dict[str, Any], **changes: Any) -> CallRecord:
        journal = self.state.journal
        record = replace(side, seq=journal.next_seq(), extra={**side.extra, **extra}, fault=None, **changes)
        journal.append(record)
        return record

    def reset(self) -> None:
        """Forget the journal and the drift seen so far."""
        super().reset()
        self.drift.clear()

    def inject(self, kind: str | Fault | Mapping[str, Any], **options: Any) -> InjectedFault:
        raise ConfigError("a proxy forwards every request unchanged: inject faults into a fake instead")
