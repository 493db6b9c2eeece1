"""Isolated tenants' state files: a bounded number open at once, a 503 (never a 500) when one cannot be opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mockserver import Fake, RawRequest
from mockserver.core.storage import sqlite_tenants

from ..support import GIF, PNG, SAVE_PATH, json_headers, save_body

ROOT = Path(__file__).resolve().parents[2]


def save(fake: Fake, tenant: str, image: bytes = PNG) -> tuple[int, bytes]:
    outcome = fake.process(
        RawRequest.build("POST", f"/{tenant}{SAVE_PATH}", headers=json_headers(), body=save_body(image=image))
    )
    return outcome.status, outcome.body


def open_files_under(directory: Path) -> int:
    """How many of this process's file descriptors are open on files under `directory`."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(directory) + os.sep)
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counting open files needs /proc")
def test_idle_tenants_files_are_closed_so_open_files_stay_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_tenants, "MAX_OPEN_TENANT_FILES", 4)
    state = tmp_path / "app.sqlite"
    fake = Fake(state=state, tenants="isolated")
    names = [f"Cust{n}" for n in range(20)]
    try:
        most = 0
        for name in names:
            assert save(fake, name) == (200, b"1")
            assert save(fake, name, GIF) == (200, b"2")
            most = max(most, open_files_under(tmp_path / "app.tenants"))
        assert 0 < most <= 2 * 4  # the database and its WAL for at most four tenants
        # Every tenant still works as if its file had stayed open: ids continue, images read back.
        for name in names:
            assert save(fake, name) == (200, b"3")
            assert fake.tenant(name).images[2] == GIF
        assert open_files_under(tmp_path / "app.tenants") <= 2 * 4
        fake.reset()  # every tenant's file, opened in turn
        assert [save(fake, name)[1] for name in names[:3]] == [b"1", b"1", b"1"]
    finally:
        fake.release()
    assert open_files_under(tmp_path) == 0
    again = Fake(state=state, tenants="isolated")
    try:
        assert [name for name, _t in (again.tenants or ()).items()] == names
        assert save(again, names[0]) == (200, b"2")
    finally:
        again.release()


def test_a_tenant_file_replaced_while_closed_is_a_503_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_tenants, "MAX_OPEN_TENANT_FILES", 1)
    fake = Fake(state=tmp_path / "app.sqlite", tenants="isolated")
    try:
        assert save(fake, "Cust1")[0] == 200
        assert save(fake, "Cust2")[0] == 200  # Cust1's file is closed now
        first = tmp_path / "app.tenants" / "Cust1.sqlite"
        first.write_bytes(b"someone else's file" * 100)
        status, body = save(fake, "Cust1")
        answer = json.loads(body)
        assert status == 503 and answer["ErrorType"] == "StateFileUnavailableException"
        assert str(first) in answer["Message"] and "not an SQLite database" in answer["Message"]
        assert fake.tenant("Cust1").calls.last.status == 503  # journaled by the tenant, in memory
        assert first.read_bytes() == b"someone else's file" * 100
        assert save(fake, "Cust2") == (200, b"2")
    finally:
        fake.release()


SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from mockserver import Fake, RawRequest
    from mockserver.core.storage import sqlite_tenants
    from tests.support import SAVE_PATH, json_headers, save_body

    sqlite_tenants.MAX_OPEN_TENANT_FILES = 10_000  # no closing: the process runs out of descriptors
    fake = Fake(state=sys.argv[1], tenants="isolated", max_tenants=10_000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    answers = []
    for n in range(60):
        outcome = fake.process(RawRequest.build("POST", f"/T{n}{SAVE_PATH}", headers=json_headers(), body=save_body()))
        answers.append([outcome.status, json.loads(outcome.body)])
    print(json.dumps({"answers": answers, "journal": [c.status for c in fake.calls]}))
    """
)


def test_a_tenant_whose_file_cannot_be_opened_is_a_503_not_a_500(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "app.sqlite")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    statuses = [status for status, _body in found["answers"]]
    assert set(statuses) == {200, 503}, statuses
    refused = [body for status, body in found["answers"] if status == 503]
    assert refused[0]["ErrorType"] == "StateFileUnavailableException"
    assert "cannot be opened" in refused[0]["Message"]
    assert found["journal"] == [503] * len(refused)  # each refusal journaled by the default tenant
