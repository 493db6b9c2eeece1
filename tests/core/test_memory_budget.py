"""Everything kept per save counts against the image budget: bytes, metadata, descriptions; every tenant shares it."""

from __future__ import annotations

import gc
import tracemalloc

from mockserver import Fake, RawRequest
from mockserver.core.storage.memory import METADATA_WEIGHT, ImageStore, metadata_weight
from mockserver.core.vocabulary import images as image_checks
from mockserver.core.vocabulary.budget import Budget

from ..support import GIF, SAVE_PATH, json_headers, save_body

GET_BLOB = "/api/v1/Agents/BLOB/GetBlobStream"
KIB = 1024
MIB = 1024 * KIB


def tiny_gif(n: int) -> bytes:
    """A distinct 1x1 GIF (a comment extension before the trailer makes each one a new picture)."""
    comment = f"{n}".encode()
    return GIF[:-1] + b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00" + GIF[-1:]


def test_metadata_weight_is_at_least_what_an_image_s_metadata_holds() -> None:
    images = ImageStore()
    for n in range(1, 101):  # warm the dicts past their first resizes
        images.put(n, b"", "PersonImage", None)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(101, 2101):
            images.put(n, b"", "PersonImage", f"picture {n}")
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    per_image = (after - before) / 2000
    assert 100 < per_image <= metadata_weight("PersonImage", "picture 1000")


def test_20k_tiny_saves_hold_no_more_than_the_budget() -> None:
    budget = 256 * KIB
    fake = Fake(image_budget=budget, journal_limit=100)
    for n in range(20_000):
        body = save_body(image=GIF, description=f"save {n}")
        outcome = fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=body))
        assert outcome.status == 200
    images = fake.images
    kept = [*images, *images.evicted_ids()]
    assert 0 < images.held == images.shared.held <= budget
    assert len(kept) <= budget // METADATA_WEIGHT
    assert images.held == images.held_bytes + sum(metadata_weight("PersonImage", f"save {i - 1}") for i in kept)
    assert list(images)[-1] == 20_000
    # The oldest ids are forgotten (metadata dropped too) but still answered as evicted, never as unknown.
    first = images.entry(1)
    assert first is not None and first.forgotten and first.data is None
    status = fake.process(
        RawRequest.build(
            "POST", "/api/v1/Agents/BLOB/GetBlobStream", headers=json_headers(), body=b'{"BlobEntityId": 1}'
        )
    ).status
    assert status == 410


def test_the_pillow_verdicts_are_a_bounded_few() -> None:
    fake = Fake()
    for n in range(image_checks._VERDICTS.size + 20):
        body = save_body(image=tiny_gif(n))
        assert fake.process(RawRequest.build("POST", SAVE_PATH, headers=json_headers(), body=body)).status == 200
    assert len(image_checks._VERDICTS) == image_checks._VERDICTS.size


def test_a_long_description_counts_against_the_budget() -> None:
    images = ImageStore(budget=MIB)
    images.put(1, b"x" * 10, None, "d" * (MIB // 2))
    images.put(2, b"x" * 10, None, "d" * (MIB // 2))
    assert images.entry(1) is not None and images.entry(1).forgotten  # type: ignore[union-attr]
    assert images.held == 10 + metadata_weight(None, "d" * (MIB // 2)) <= MIB


def test_clear_gives_everything_back() -> None:
    images = ImageStore(budget=MIB)
    for n in range(1, 11):
        images.put(n, b"x" * KIB, "PersonImage", "picture")
    images.clear()
    assert images.held == images.shared.held == 0
    assert images.entry(1) is None


# ---- one budget for every tenant --------------------------------------------------------


def test_forty_isolated_tenants_share_one_image_budget() -> None:
    budget = 80 * KIB
    fake = Fake(tenants="isolated", image_budget=budget)
    for n in range(40):
        body = save_body(image=b"GIF89a" + bytes([n]) * (70 * KIB), description=f"tenant {n}")
        outcome = fake.process(RawRequest.build("POST", f"/Cust{n}{SAVE_PATH}", headers=json_headers(), body=body))
        assert outcome.status == 200
    tenants = [t for _name, t in fake.tenants.items()] if fake.tenants is not None else []
    assert len(tenants) == 40
    assert all(t.images.shared is fake.images.shared for t in tenants)
    held = sum(t.images.held for t in tenants)
    assert held == fake.images.shared.held <= budget  # one image's bytes fit: the newest, the last tenant's
    assert [len(t.images) for t in tenants] == [0] * 39 + [1]
    assert all(t.images.entry(1) is not None for t in tenants)  # the others keep their metadata


def test_a_busy_tenant_cannot_push_out_a_quiet_tenant_s_share() -> None:
    budget = 512 * KIB
    fake = Fake(tenants="isolated", image_budget=budget)
    headers = json_headers()
    quiet = [
        fake.process(
            RawRequest.build("POST", f"/Quiet{SAVE_PATH}", headers=headers, body=save_body(image=tiny_gif(n)))
        ).body
        for n in range(3)
    ]
    for n in range(400):
        body = save_body(image=b"GIF89a" + n.to_bytes(2, "big") * (8 * KIB))
        assert fake.process(RawRequest.build("POST", f"/Busy{SAVE_PATH}", headers=headers, body=body)).status == 200
    quiet_fake = fake.tenant("Quiet")
    assert [str(i).encode() for i in quiet_fake.images] == quiet  # the quiet tenant kept every image
    assert fake.images.shared.held <= budget
    assert fake.tenant("Busy").images.held > quiet_fake.images.held


def test_a_budget_shared_by_holders_gives_up_the_largest_holder_s_oldest_first() -> None:
    shared = Budget(10 * KIB)
    small, large = ImageStore(), ImageStore()
    small.share(shared)
    large.share(shared)
    small.put(1, b"s" * KIB, None, None)
    for n in range(1, 20):
        large.put(n, b"L" * KIB, None, None)
    assert list(small) == [1] and shared.held <= 10 * KIB and shared.shed_count > 0
