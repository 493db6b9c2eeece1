"""The serve log line: made from the call's facts, saying what the record says, without building it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mockserver import Fake, RawRequest
from mockserver.core.exchange import CallFacts
from mockserver.http.app import log_call

from ..support import SAVE_PATH, json_headers, save_body


def record_line(fake: Fake, seq: int) -> str:
    """The line as it was made from the record before: the reference the facts must match."""
    r = fake.state.journal.get(seq)
    assert r is not None
    detail = (
        (f"id {r.blob_id}" if r.blob_id is not None else "ok")
        if r.accepted
        else (r.violations[0].message if r.violations else "rejected")
    )
    if r.warnings:
        more = f" (+{len(r.warnings) - 1} more)" if len(r.warnings) > 1 else ""
        detail += f"; warning: {r.warnings[0].message}{more}"
    return f"#{r.seq} {r.method} {r.path} -> {r.status} {detail}"


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        (SAVE_PATH, save_body(), {}),
        (SAVE_PATH, save_body(type_="Nope"), {}),
        (SAVE_PATH, save_body(Extra="x", Other="y"), {}),
        (SAVE_PATH, save_body(), {"Accept": "text/nope"}),
        ("/api/v1/nowhere\\é", b"{}", {}),
    ],
)
def test_the_line_from_facts_is_the_line_from_the_record_and_builds_nothing(
    caplog: pytest.LogCaptureFixture, path: str, body: bytes, headers: dict[str, str]
) -> None:
    fake = Fake()
    outcome = fake.process(RawRequest.build("POST", path, headers={**json_headers(), **headers}, body=body))
    assert isinstance(outcome.entry, CallFacts)
    with caplog.at_level(logging.INFO, logger="mockserver"):
        log_call(outcome)
    plain = path.isascii() and "\\" not in path
    # The usual call's record is not built for the line; text the record escapes is taken from it.
    assert (outcome.entry._record is None) == plain
    assert [r.getMessage() for r in caplog.records] == [record_line(fake, 1)]


def test_a_record_built_at_once_is_logged_the_same(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    fake = Fake(state=tmp_path / "state.sqlite")
    try:
        outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
        with caplog.at_level(logging.INFO, logger="mockserver"):
            log_call(outcome)
        assert [r.getMessage() for r in caplog.records] == [record_line(fake, 1)]
    finally:
        fake.release()
