"""The journal is bounded in bytes: each record cut to `RECORD_CAP`, all records within the journal budget."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from mockserver import ConfigError, Fake, RawRequest, Settings
from mockserver.core.body.binding import LISTED
from mockserver.core.config import env_overrides
from mockserver.core.vocabulary.bounds import PAIRS_KEPT, RECORD_CAP, TEXT_KEPT, trimmed, weight
from mockserver.core.vocabulary.journal import DEFAULT_JOURNAL_BUDGET, CallLog
from mockserver.tools.cli import build_parser, settings_and_sources

from ..support import SAVE_PATH, json_headers, save_body

MIB = 1024 * 1024


def test_a_get_with_120_headers_of_250_kb_keeps_their_names_and_sizes_not_their_30_mb() -> None:
    fake = Fake()
    headers = [(f"X-Big-{n}", chr(ord("a") + n % 26) * 250_000) for n in range(120)]
    outcome = fake.process(RawRequest.build("GET", "/x", headers=headers))
    assert outcome.status == 404
    record = fake.calls.last
    assert weight(record) <= RECORD_CAP
    assert len(json.dumps(record.to_json())) <= RECORD_CAP + 4096  # JSON adds quotes and brackets
    kept = dict(record.headers)
    assert [name for name, _ in record.headers[:PAIRS_KEPT]] == [f"X-Big-{n}" for n in range(PAIRS_KEPT)]
    first = kept["X-Big-0"]
    assert first.startswith("a" * 32) and "250000 characters" in first
    assert hashlib.sha256(b"a" * 250_000).hexdigest() in first
    rest = sum(len(f"X-Big-{n}") + 250_000 for n in range(PAIRS_KEPT, 120))
    assert record.headers[-1] == ("…", f"{120 - PAIRS_KEPT} more headers ({rest} bytes) not kept")
    assert fake.state.journal.held <= RECORD_CAP


def test_a_20_mb_description_is_kept_as_its_start_its_length_and_its_digest() -> None:
    fake = Fake()
    description = "D" * (20 * MIB)
    outcome = fake.process(
        RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(description=description))
    )
    assert outcome.status == 200
    record = fake.calls.last
    assert record.description == trimmed(description)
    assert record.description is not None and record.description.startswith("D" * TEXT_KEPT + "…")
    assert f"[{20 * MIB} characters, sha256 {hashlib.sha256(description.encode()).hexdigest()}]" in record.description
    assert weight(record) <= RECORD_CAP
    assert record.request["Image"].size > 0  # the rest of the record is intact


def test_twenty_properties_with_1_mb_names_make_a_record_of_at_most_the_cap() -> None:
    fake = Fake()
    body = json.dumps({f"{n:02d}" + "N" * MIB: "x" for n in range(20)}).encode()
    outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=body))
    assert outcome.status == 400  # no Image: the answer is unchanged
    record = fake.calls.last
    assert weight(record) <= RECORD_CAP
    names = [w.location for w in record.warnings if w.location.startswith(("body.0", "body.1"))]
    assert len(names) == LISTED and all(f"[{MIB + 7} characters, sha256" in name for name in names)
    assert names[0].startswith("body.00NNN")


def test_a_long_query_is_cut_like_the_headers() -> None:
    fake = Fake()
    query = "&".join(f"p{n}={'q' * 5000}" for n in range(100))
    fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(), query=query))
    record = fake.calls.last
    assert weight(record) <= RECORD_CAP
    assert len(record.query) == PAIRS_KEPT + 1 and record.query[-1][1].startswith(f"{100 - PAIRS_KEPT} more query")
    assert record.query[0][0] == "p0" and "5000 characters" in record.query[0][1]


def test_small_records_are_kept_exactly_as_they_were() -> None:
    fake = Fake()
    fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(description="x" * 5000)))
    assert fake.calls.last.description == "x" * 5000


def test_past_the_journal_budget_the_oldest_records_go_and_are_counted() -> None:
    log = CallLog(limit=0)
    log.share(log.budget)  # sharing its own budget changes nothing
    fake = Fake(journal_budget=64 * 1024, journal_limit=0)
    for n in range(200):
        fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(description=f"{n}")))
    journal = fake.state.journal
    assert 0 < journal.held <= 64 * 1024 == journal.budget.limit
    assert len(journal) < 200 and journal.dropped == 200 - len(journal)
    assert fake.calls.last.description == "199"  # the newest stays
    assert [r.seq for r in fake.calls] == list(range(201 - len(journal), 201))
    assert journal.held == sum(weight(r) for r in fake.calls)


def test_one_record_alone_over_the_budget_stays() -> None:
    fake = Fake(journal_budget=100)
    fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body()))
    assert len(fake.calls) == 1 and fake.state.journal.dropped == 1 and fake.calls.last.seq == 2


def test_clearing_the_journal_gives_its_bytes_back() -> None:
    fake = Fake()
    for _ in range(3):
        fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=save_body(description="D" * MIB)))
    assert fake.state.journal.held > 0
    fake.state.journal.clear()
    assert fake.state.journal.held == fake.state.journal.budget.held == 0


def test_isolated_tenants_share_one_journal_budget() -> None:
    fake = Fake(tenants="isolated", journal_budget=32 * 1024, journal_limit=0)
    for n in range(300):
        path = f"/Cust{n % 10}{SAVE_PATH}"
        fake.process(RawRequest.build("POST", path, headers=json_headers(), body=save_body()))
    tenants = [t for _name, t in fake.tenants.items()] if fake.tenants is not None else []
    assert len(tenants) == 10
    total = sum(t.state.journal.held for t in tenants) + fake.state.journal.held
    assert total == fake.state.journal.budget.held <= 32 * 1024
    assert all(t.state.journal.dropped > 0 for t in tenants)
    assert all(t.state.journal.budget is fake.state.journal.budget for t in tenants)


def test_the_journal_budget_is_a_setting() -> None:
    assert Settings().journal_budget == DEFAULT_JOURNAL_BUDGET == 64 * MIB
    assert env_overrides({"MOCKSERVER_JOURNAL_BUDGET": "8M"}) == {"journal_budget": 8 * MIB}
    args = build_parser().parse_args(["serve", "--journal-budget", "1G"])
    assert settings_and_sources(args)[0].journal_budget == 1024**3
    with pytest.raises(ConfigError, match="journal_budget"):
        Settings(journal_budget=-1)


def test_the_state_file_keeps_the_cut_record_too(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    description = "S" * (4 * MIB)
    body = save_body(description=description)
    assert fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=body)).status == 200
    fake.release()
    reopened = Fake(state=state)
    try:
        assert reopened.calls.last.description == trimmed(description)
    finally:
        reopened.release()
    rows = sqlite3.connect(state).execute("SELECT length(record) FROM calls").fetchall()
    assert rows and all(size <= RECORD_CAP for (size,) in rows)
