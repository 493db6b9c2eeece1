"""An agent call that the tenant's life refuses (421 on the wrong host, 503 while its APIs are away), journaled.

The refusal is kept in the journal of the tenant it names (so it moves with the tenant), with
the host it arrived on in ``extra["host"]`` and the violation saying where the tenant is now.
"""

from __future__ import annotations

import time

from mockserver.core.body.codecs import encode_error
from mockserver.core.exchange import Outcome, RawRequest
from mockserver.core.headers.auth import redact_headers
from mockserver.core.vocabulary.contract import ContractSet
from mockserver.core.vocabulary.errors import ApiError
from mockserver.core.vocabulary.journal import CallLog
from mockserver.core.vocabulary.records import NO_AUTH, NO_LOCALE, CallRecord


def refuse(journal: CallLog, contracts: ContractSet, raw: RawRequest, err: ApiError) -> Outcome:
    """Journal `raw` as refused with `err` and build its JSON answer in SuperOffice's error shape."""
    contract, prefix = contracts.match(raw.path)
    record = CallRecord(
        seq=journal.next_seq(),
        time=time.time(),
        method=raw.method,
        path=raw.path,
        prefix=prefix,
        operation=contract.name if contract is not None else None,
        query=(),
        select=(),
        headers=redact_headers(raw.headers),
        auth=NO_AUTH,
        locale=NO_LOCALE,
        request={},
        status=err.status,
        blob_id=None,
        violations=tuple(err.violations),
        warnings=(),
        content_type=raw.headers.get("Content-Type"),
        response_type="application/json",
        extra={"host": raw.host} if raw.host else {},
    )
    journal.append(record)
    body = encode_error(err.body(), "json")
    return Outcome(err.status, body, "application/json; charset=utf-8", dict(err.headers), record)


__all__ = ["refuse"]
