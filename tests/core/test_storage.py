"""--state FILE: ids, images, attachments and the journal survive a restart and a kill."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import requests

from benchmarks.state_cost import state_cost
from mockserver import ConfigError, Fake, FakeServer, RawRequest, ThreadedFakeServer
from mockserver.core.storage._records_json import decode_record, encode_record
from mockserver.core.storage.memory import ImageStore, MemoryStorage
from mockserver.core.storage.sqlite import SqliteStorage

from ..support import GIF, PNG, SAVE_PATH, json_headers, save_body

ROOT = Path(__file__).resolve().parents[2]
ATTACH_PATH = "/api/v1/Agents/BLOB/ChangePersonImage"


def _post(fake: Fake, path: str = SAVE_PATH, body: bytes | None = None) -> int:
    outcome = fake.process(RawRequest.build("POST", path, headers=json_headers(), body=body or save_body()))
    return outcome.status


def test_default_state_is_in_memory() -> None:
    fake = Fake()
    assert type(fake.state.storage) is MemoryStorage
    assert type(fake.images) is ImageStore


def test_a_storage_given_to_the_fake_is_the_one_it_uses(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "given.sqlite")
    fake = Fake(storage=storage)
    try:
        assert fake.state.storage is storage
        assert _post(fake) == 200
    finally:
        fake.state.close()
    reopened = Fake(storage=SqliteStorage(tmp_path / "given.sqlite"))
    try:
        assert reopened.next_id == 2 and len(reopened.images) == 1
    finally:
        reopened.state.close()


async def test_restarted_fake_continues_the_ids_and_serves_every_image_and_record(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    images = [PNG, GIF, PNG + b"#3"]
    async with FakeServer(port=0, first_id=33, state=state) as fake, aiohttp.ClientSession() as http:
        for image in images:
            async with http.post(fake.api_url, data=save_body(image=image), headers=json_headers()) as resp:
                assert resp.status == 200
        body = json.dumps({"PersonId": 7, "BlobId": 34})
        async with http.post(fake.url + ATTACH_PATH, data=body, headers=json_headers()) as resp:
            assert resp.status == 204
        async with http.post(fake.api_url, data=b'{"Type": "Nope"}', headers=json_headers()) as resp:
            assert resp.status == 400
    before = fake.calls

    async with FakeServer(port=0, first_id=33, state=state) as again, aiohttp.ClientSession() as http:
        for blob_id, image in zip((33, 34, 35), images, strict=True):
            async with http.get(f"{again.url}/_images/{blob_id}") as resp:
                assert (resp.status, await resp.read()) == (200, image)
        async with http.get(again.url + "/_calls") as resp:
            served = (await resp.json())["calls"]
        async with http.post(again.api_url, data=save_body(), headers=json_headers()) as resp:
            assert await resp.text() == "36"
    assert [c["seq"] for c in served] == [1, 2, 3, 4, 5]
    assert [c["status"] for c in served] == [200, 200, 200, 204, 400]
    assert again.calls[:5] == before  # every record back exactly as it was
    assert again.calls.last.seq == 6
    assert dict(again.person_images) == {7: 34}
    assert again.images.entry(34).type == "PersonImage"  # type: ignore[union-attr]


def test_image_bytes_are_stored_once(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    for _ in range(3):
        _post(fake, body=save_body(image=GIF))
    _post(fake, body=save_body(image=PNG))
    fake.state.close()
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM images").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2
        # The journal keeps size and hash, never the bytes.
        assert all(b"R0lGOD" not in row[0].encode() for row in db.execute("SELECT record FROM calls"))


def test_images_stay_readable_after_the_fake_closed(tmp_path: Path) -> None:
    with ThreadedFakeServer(port=0, state=tmp_path / "s.sqlite") as fake:
        requests.post(fake.api_url, data=save_body(image=GIF), headers=json_headers(), timeout=5)
    assert fake.images[1] == GIF
    assert list(fake.images) == [1]
    with pytest.raises(ConfigError, match="closed"):
        _post(fake)


def test_a_second_fake_on_the_same_file_refuses_to_start(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = Fake(state=state)
    with pytest.raises(ConfigError, match="in use by another running fake"):
        Fake(state=state)
    _post(first)
    first.state.close()
    second = Fake(state=state)  # the lock went with the first fake
    assert second.next_id == 2
    second.state.close()


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("these are not the rows you are looking for\n" * 100)
    with pytest.raises(ConfigError, match="not a mockserver state file"):
        Fake(state=bogus)


def test_reset_and_clearing_the_journal_are_persisted(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    _post(fake)
    _post(fake, ATTACH_PATH, json.dumps({"PersonId": 1, "BlobId": 1}).encode())
    fake.state.journal.clear()  # DELETE /_calls: records go, ids continue
    fake.state.close()
    fake = Fake(state=state)
    assert (len(fake.calls), fake.next_id, dict(fake.person_images)) == (0, 2, {1: 1})
    fake.reset()
    fake.state.close()
    fake = Fake(state=state)
    assert (len(fake.calls), fake.next_id, len(fake.images), dict(fake.person_images)) == (0, 1, 0, {})
    fake.state.close()


def test_journal_limit_applies_to_the_file(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state, journal_limit=5)
    for _ in range(8):
        _post(fake)
    fake.state.close()
    fake = Fake(state=state, journal_limit=5)
    assert [c.blob_id for c in fake.calls] == [4, 5, 6, 7, 8]
    assert fake.state.journal.dropped == 3
    assert len(fake.images) == 8
    fake.state.close()


def test_lost_response_save_and_its_fault_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fake = Fake(state=state)
    fake.inject("status", status=500, after_save=True)
    assert _post(fake) == 500
    fake.state.close()
    fake = Fake(state=state)
    assert (fake.calls.last.fault, fake.calls.last.blob_id, fake.next_id) == ("status 500 after save", 1, 2)
    assert len(fake.faults) == 0  # faults are set up per run, never restored
    fake.state.close()


def test_record_encoding_round_trips() -> None:
    fake = Fake()
    _post(fake, body=save_body(description="ünïcödé"))
    _post(fake, body=b'{"Type": 0}')
    assert len(fake.calls) == 2
    for record in fake.calls:
        assert decode_record(encode_record(record)) == record


def test_state_cost_helper_reports_both_rates(tmp_path: Path) -> None:
    cost = state_cost(20, tmp_path)
    assert cost["memory_per_s"] > 0 and cost["state_per_s"] > 0
    assert cost["slowdown"] == pytest.approx(cost["memory_per_s"] / cost["state_per_s"])


# ---- a real process, killed in the middle of a burst ----------------------------------


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url


def _serve(state: Path, *, via_env: bool = False) -> Served:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet"]
    if via_env:
        env["MOCKSERVER_STATE"] = str(state)
    else:
        args += ["--state", str(state)]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"listening on (http://\S+)", line)
    if found is None:
        proc.kill()
        _out, err = proc.communicate(timeout=10)
        raise AssertionError(f"the fake did not start: {line!r} {err}")
    return Served(proc, found.group(1))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


async def _burst(url: str, kill_after: int, kill: Callable[[], None]) -> dict[int, bytes]:
    """Eight clients save unique images until the server dies; return what was acknowledged."""
    acknowledged: dict[int, bytes] = {}
    counter = iter(range(10_000))

    async def client(http: aiohttp.ClientSession) -> None:
        while True:
            image = PNG + f"#{next(counter)}".encode()
            try:
                async with http.post(url + SAVE_PATH, data=save_body(image=image), headers=json_headers()) as resp:
                    if resp.status != 200:
                        return
                    acknowledged[int(await resp.text())] = image
            except (TimeoutError, aiohttp.ClientError):
                return
            if len(acknowledged) == kill_after:
                kill()

    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=8)) as http:
        await asyncio.gather(*(client(http) for _ in range(8)))
    return acknowledged


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_no_acknowledged_save_is_lost_when_the_process_dies_mid_burst(
    tmp_path: Path, processes: list[subprocess.Popen[str]], sig: signal.Signals
) -> None:
    state = tmp_path / "state.sqlite"
    served = _serve(state, via_env=sig == signal.SIGTERM)
    processes.append(served.proc)
    acknowledged = await _burst(served.url, 40, lambda: served.proc.send_signal(sig))
    await asyncio.to_thread(served.proc.wait, 20)
    assert len(acknowledged) >= 40

    again = _serve(state)
    processes.append(again.proc)
    http = requests.Session()
    for blob_id, image in acknowledged.items():
        resp = http.get(f"{again.url}/_images/{blob_id}", timeout=5)
        assert (resp.status_code, resp.content) == (200, image), blob_id
    calls = http.get(again.url + "/_calls", timeout=5).json()["calls"]
    saved = {c["blob_id"] for c in calls if c["status"] == 200}
    assert set(acknowledged) <= saved
    next_id = http.get(again.url + "/_health", timeout=5).json()["next_id"]
    # Id, image and record commit together: every id below next_id is a complete save, none is reused.
    assert saved == set(range(1, next_id))
    resp = http.post(again.url + SAVE_PATH, data=save_body(), headers=json_headers(), timeout=5)
    assert int(resp.text) == next_id


def test_a_second_process_on_the_same_state_file_exits_with_a_clear_error(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "state.sqlite"
    processes.append(_serve(state).proc)
    second = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 2
    assert "in use by another running fake" in second.stderr
