"""State files join the fake's one budget: images, links and journal of every tenant file together.

With ``--tenants isolated --state`` each tenant's state is a file of its own; what those files
hold (image bytes and metadata, person and project links, journal records) counts against the
one image budget and the one journal budget the operator set, exactly as in memory. A tenant
that is idle gives up its oldest when another tenant's saves need the room; a failed write gives
back what it had counted; and one cache of recently read blobs serves every file.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import threading
import time
import tracemalloc
from pathlib import Path

from mockserver import Fake, RawRequest
from mockserver.core.storage.errors import StateWriteFailed
from mockserver.core.storage.links import LINK_WEIGHT, Attachments
from mockserver.core.storage.memory import METADATA_WEIGHT
from mockserver.core.storage.sqlite import SqliteStorage

from ..support import SAVE_PATH, json_headers, save_body

KIB = 1024
AGENT = "/api/v1/Agents/BLOB/"


def call(fake: Fake, path: str, body: bytes) -> int:
    outcome = fake.process(RawRequest.build("POST", path, headers=json_headers(), body=body))
    assert outcome.status in (200, 204), outcome.body  # a save answers its id; a link, nothing
    return int(outcome.body) if outcome.status == 200 else 0


def picture(n: int, size: int) -> bytes:
    """A distinct GIF-looking picture of `size` bytes (no two share a blob)."""
    return b"GIF89a" + n.to_bytes(4, "big") * (size // 4)


def file_rows(path: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute(sql).fetchone()[0])


def stored(fake: Fake, tenant: str, sql: str) -> int:
    """Ask a running fake's tenant file (the fake holds it exclusively while it runs)."""
    return int(fake.tenant(tenant).state.storage.store.rows(sql)[0][0])  # type: ignore[attr-defined]


def tenant_files(state: Path) -> list[Path]:
    return sorted((state.parent / f"{state.stem}.tenants").glob("*.sqlite"))


def test_isolated_tenant_files_share_one_image_budget(tmp_path: Path) -> None:
    state, budget = tmp_path / "app.sqlite", 100 * KIB
    fake = Fake(tenants="isolated", state=state, image_budget=budget)
    try:
        for n in range(10):
            call(fake, f"/Cust{n}{SAVE_PATH}", save_body(image=picture(n, 60 * KIB), description=f"tenant {n}"))
        tenants = [tenant for _name, tenant in fake.tenants.items()] if fake.tenants is not None else []
        assert len(tenants) == 10
        assert all(t.images.shared is fake.images.shared for t in tenants)
        assert sum(t.images.held for t in tenants) + fake.images.held == fake.images.shared.held <= budget
        # The newest image (the last tenant's) is held; every earlier tenant's bytes made room for it.
        assert [len(t.images) for t in tenants] == [0] * 9 + [1]
        assert all(t.images.entry(1) is not None for t in tenants)  # 410 Gone, not 404: the metadata stays
    finally:
        fake.release()
    on_disk = sum(file_rows(path, "SELECT coalesce(sum(length(data)), 0) FROM blobs") for path in tenant_files(state))
    assert on_disk <= budget  # ten files of their own budget each would hold ten pictures: 600 KiB


def test_a_busy_tenant_file_cannot_push_out_a_quiet_tenant_file_s_share(tmp_path: Path) -> None:
    budget = 256 * KIB
    fake = Fake(tenants="isolated", state=tmp_path / "app.sqlite", image_budget=budget)
    try:
        quiet = [call(fake, f"/Quiet{SAVE_PATH}", save_body(image=picture(n, 2 * KIB))) for n in range(3)]
        for n in range(100):
            call(fake, f"/Busy{SAVE_PATH}", save_body(image=picture(1000 + n, 8 * KIB)))
        assert list(fake.tenant("Quiet").images) == quiet  # the quiet tenant kept every image
        assert fake.images.shared.held <= budget
        assert fake.tenant("Busy").images.held > fake.tenant("Quiet").images.held
    finally:
        fake.release()


def test_a_failed_write_gives_the_shared_budget_back_what_it_counted(tmp_path: Path) -> None:
    fake = Fake(state=tmp_path / "app.sqlite", image_budget=64 * KIB)
    try:
        call(fake, SAVE_PATH, save_body(image=picture(1, 20 * KIB)))
        images, shared = fake.state.images, fake.state.images.shared
        before = (images.held, shared.held)
        storage = fake.state.storage
        assert isinstance(storage, SqliteStorage) and storage.store is not None
        try:
            with fake.state.writing():
                fake.state.images.put(fake.state.ids.take(), picture(2, 50 * KIB), None, "rolled back")
                assert shared.held > before[1]
                storage.store.write_failed("the disk is full (a test)")
        except StateWriteFailed:
            pass
        assert (images.held, shared.held) == before
        assert list(images) == [1] and fake.state.ids.peek == 2
    finally:
        fake.release()


def test_every_tenant_file_reads_through_one_cache(tmp_path: Path) -> None:
    fake = Fake(tenants="isolated", state=tmp_path / "app.sqlite")
    try:
        call(fake, f"/Cust1{SAVE_PATH}", save_body())
        call(fake, f"/Cust2{SAVE_PATH}", save_body())
        caches = {id(fake.tenant(name).state.storage.cache) for name in ("Cust1", "Cust2")}  # type: ignore[attr-defined]
        assert caches == {id(fake.state.storage.cache)}  # type: ignore[attr-defined]
    finally:
        fake.release()


# ---- person and project links ------------------------------------------------------------


def link(fake: Fake, person: int, blob_id: int, prefix: str = "") -> None:
    call(fake, f"{prefix}{AGENT}ChangePersonImage", json.dumps({"PersonId": person, "BlobId": blob_id}).encode())


def test_link_weight_is_at_least_what_a_link_holds() -> None:
    links = Attachments().setdefault("person")
    for n in range(1, 1001):  # warm the dict past its first resizes
        links[n] = n
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(1001, 21001):
            links[n * 1_000_003] = n * 7  # ids past the small-int cache: each key and value an object
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    per_link = (after - before) / 20_000
    assert 50 < per_link <= LINK_WEIGHT


def test_links_to_endlessly_many_ids_stay_within_the_image_budget() -> None:
    budget = 64 * KIB
    fake = Fake(image_budget=budget)
    blob_id = call(fake, SAVE_PATH, save_body())
    for person in range(1, 3001):
        link(fake, person, blob_id)
    links = fake.person_images
    assert fake.state.images.shared.held <= budget
    assert 0 < len(links) <= budget // LINK_WEIGHT < 3000
    assert 3000 in links and 1 not in links  # the oldest went, the newest stays
    assert fake.images.entry(blob_id) is not None  # the links were the largest holder: they gave up


def test_linking_an_id_again_makes_it_the_newest() -> None:
    fake = Fake(image_budget=METADATA_WEIGHT + 40 * LINK_WEIGHT + 200)
    blob_id = call(fake, SAVE_PATH, save_body(image=b"GIF89a"))
    for person in range(1, 31):
        link(fake, person, blob_id)
    link(fake, 1, blob_id)  # again: now the newest of all
    for person in range(31, 61):
        link(fake, person, blob_id)
    assert 1 in fake.person_images and 2 not in fake.person_images


def test_a_state_file_s_links_stay_within_the_image_budget(tmp_path: Path) -> None:
    state, budget = tmp_path / "app.sqlite", 64 * KIB
    fake = Fake(tenants="isolated", state=state, image_budget=budget)
    try:
        blob_id = call(fake, f"/Cust1{SAVE_PATH}", save_body())
        for person in range(1, 2001):
            link(fake, person, blob_id, "/Cust1")
        held = fake.tenant("Cust1").person_images
        assert 0 < len(held) <= budget // LINK_WEIGHT and 2000 in held
    finally:
        fake.release()
    (path,) = tenant_files(state)
    assert file_rows(path, "SELECT count(*) FROM attachments") == len(held)
    again = Fake(tenants="isolated", state=state, image_budget=budget)
    try:
        assert dict(again.tenant("Cust1").person_images) == dict(held)  # what the file kept is what memory held
        assert again.state.images.shared.held <= budget
    finally:
        again.release()


# ---- the journal --------------------------------------------------------------------------


def test_tenant_journal_files_share_the_journal_byte_budget(tmp_path: Path) -> None:
    state, budget = tmp_path / "app.sqlite", 256 * KIB
    fake = Fake(tenants="isolated", state=state, journal_budget=budget, image_budget=0)
    try:
        for n in range(120):  # the first tenant's records alone fill the budget
            call(fake, f"/Early{SAVE_PATH}", save_body(description="e" * 2000 + str(n)))
        early_rows = stored(fake, "Early", "SELECT count(*) FROM calls")
        for n in range(400):  # then the other tenant's calls need the room: the idle tenant's file gives it
            call(fake, f"/Late{SAVE_PATH}", save_body(description="l" * 2000 + str(n)))
        early, late = fake.tenant("Early").state.journal, fake.tenant("Late").state.journal
        assert early.budget is late.budget and early.budget.held <= budget
        kept = {name: stored(fake, name, "SELECT count(*) FROM calls") for name in ("Early", "Late")}
        assert kept["Early"] == len(early)  # the idle tenant's file holds what its memory holds
        # The busy one's too, but for the record its last call pushed out: its next call's transaction takes it.
        assert len(late) <= kept["Late"] <= len(late) + 1
        assert kept["Early"] < early_rows
        record_bytes = sum(stored(fake, name, "SELECT sum(length(record)) FROM calls") for name in ("Early", "Late"))
        assert record_bytes <= 2 * budget  # JSON text, a little larger than what memory counts
    finally:
        fake.release()


# ---- threads -------------------------------------------------------------------------------


def test_threads_saving_into_many_tenant_files_finish_and_share_the_budget_exactly(tmp_path: Path) -> None:
    """Large bodies are decoded on worker threads: saves into different tenant files run at once.

    Each holds its own file's lock and then the budget's; the budget makes other files give up
    only through a lock taken without waiting. A deadlock would leave a thread here for ever.
    """
    budget, tenants, saves = 96 * KIB, 6, 60
    fake = Fake(tenants="isolated", state=tmp_path / "app.sqlite", image_budget=budget)
    errors: list[BaseException] = []

    def client(t: int) -> None:
        try:
            for n in range(saves):
                blob_id = call(fake, f"/T{t}{SAVE_PATH}", save_body(image=picture(t * 1000 + n, 6 * KIB)))
                if n % 3 == 0:
                    link(fake, n, blob_id, f"/T{t}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(tenants)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not any(thread.is_alive() for thread in threads), "a thread is still waiting: a deadlock"
        assert not errors, errors
        shared = fake.images.shared
        parts = [fake.tenant(f"T{t}").state for t in range(tenants)] + [fake.state]
        assert sum(s.images.held + s.attachments.held for s in parts) == shared.held  # nothing counted twice
        with shared.lock:
            shared.settle()  # a file busy when another's save settled gives up now, the threads quiet
        assert shared.held <= budget
        for t in range(tenants):  # every id a thread was given is still known: held, or 410, never 404
            images = fake.tenant(f"T{t}").images
            assert all(images.entry(blob_id) is not None for blob_id in range(1, saves + 1))
    finally:
        if not any(thread.is_alive() for thread in threads):  # a deadlocked file's lock would hold release too
            fake.release()
