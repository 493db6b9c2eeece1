"""The per-fake cache of header conclusions never changes an answer or a record."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from mockserver.core.exchange import RawRequest
from mockserver.core.fake import Fake
from mockserver.core.headers.steps import HEADER_CACHE_SIZE

PATH = "/api/v1/Agents/BLOB/SaveImageStream"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
BODY = json.dumps({"Type": "PersonImage", "Image": base64.b64encode(PNG).decode(), "Description": "x"}).encode()


def save(fake: Fake, **headers: str) -> RawRequest:
    base = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw"}
    return RawRequest.build("POST", PATH, headers={**base, **headers}, body=BODY)


def comparable(fake: Fake, raw: RawRequest) -> tuple[object, ...]:
    out = fake.process(raw)
    r = out.record
    return (out.status, out.content_type, r.headers, r.auth, r.locale, r.warnings, r.violations, r.content_type)


def test_a_repeated_header_set_gets_the_same_answer_and_record() -> None:
    fake = Fake()
    raw = save(fake, **{"SO-Language": "nb", "Accept": "application/xml, bogus", "SO-Browser-TZ-Offset": "abc"})
    first = comparable(fake, raw)
    assert first[0] == 200 and first[5], "the request is meant to carry warnings"
    assert [comparable(fake, raw) for _ in range(3)] == [first] * 3
    assert [r.auth.principal for r in fake.calls] == ["tje0"] * 4


def test_a_rejected_header_set_is_rejected_every_time() -> None:
    fake = Fake()
    raw = save(fake, Authorization="Basic !!!")
    assert [fake.process(raw).status for _ in range(3)] == [401, 401, 401]


def test_select_warnings_are_worked_out_per_call() -> None:
    fake = Fake()
    plain = save(fake)
    fake.process(plain)
    selected = RawRequest("POST", PATH, "$select=a,,b", plain.headers, BODY)
    record = fake.process(selected).record
    assert record.select == ("a", "b")
    assert [w.location for w in record.warnings] == ["query.$select"]


def test_credentials_from_a_store_are_checked_on_every_call(tmp_path) -> None:  # type: ignore[no-untyped-def]
    soon = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store = tmp_path / "creds.toml"
    store.write_text(f'[tokens]\n"8A:tok" = {{ user = "ann", expires = {soon} }}\n')
    fake = Fake(credentials=store)
    raw = save(fake, Authorization="Bearer 8A:tok")
    assert fake.process(raw).status == 200
    grant = fake.credentials.tokens["8A:tok"]  # type: ignore[union-attr]
    object.__setattr__(grant, "expires", datetime.now(UTC) - timedelta(seconds=1))
    assert fake.process(raw).status == 401


def test_replaced_settings_are_not_answered_from_the_cache() -> None:
    fake = Fake()
    raw = save(fake, Accept="image/png")
    assert fake.process(raw).status == 200  # lenient: a warning, answered in JSON
    fake.settings = fake.settings.with_(strict=True)
    assert fake.process(raw).status == 406


def test_the_cache_stays_bounded() -> None:
    fake = Fake()
    for i in range(HEADER_CACHE_SIZE * 3):
        fake.process(save(fake, **{"X-Request-Id": str(i)}))
    assert len(fake.header_cache) <= HEADER_CACHE_SIZE
    huge = save(fake, **{"X-Big": "x" * 10_000})
    fake.process(huge)
    assert all("X-Big" not in dict(key[1]) for key in fake.header_cache)
