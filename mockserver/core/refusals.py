"""Requests refused before the pipeline could read them: journaled all the same, answered in SuperOffice's shape."""

from __future__ import annotations

import time

from mockserver.core.body.codecs import encode_error
from mockserver.core.exchange import Outcome
from mockserver.core.vocabulary.errors import ApiError
from mockserver.core.vocabulary.journal import CallLog
from mockserver.core.vocabulary.records import NO_AUTH, NO_LOCALE, CallRecord


def record_refusal(journal: CallLog, method: str, path: str, err: ApiError) -> Outcome:
    """Journal a request the HTTP layer refused (or a crash while answering it) and build its JSON answer."""
    record = CallRecord(
        seq=journal.next_seq(),
        time=time.time(),
        method=method,
        path=path,
        prefix="",
        operation=None,
        query=(),
        select=(),
        headers=(),
        auth=NO_AUTH,
        locale=NO_LOCALE,
        request={},
        status=err.status,
        blob_id=None,
        violations=tuple(err.violations),
        warnings=(),
        response_type="application/json",
    )
    journal.append(record)
    return Outcome(err.status, encode_error(err.body(), "json"), "application/json; charset=utf-8", {}, record)
