"""Tenants isolated in one process: each /CustNNNN prefix has its own ids, journal, images and faults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import ClientSession

from mockserver import ConfigError, Fake, FakeServer, RawRequest

from ..support import BASIC, SAVE_PATH, json_headers, save_body


async def _save(http: ClientSession, url: str) -> tuple[int, str]:
    async with http.post(url, data=save_body(), headers=json_headers()) as resp:
        return resp.status, await resp.text()


async def test_two_tenants_saving_in_parallel_each_get_ids_from_the_first() -> None:
    async with FakeServer(port=0, tenants="isolated") as fake, ClientSession() as http:

        async def client(tenant: str) -> list[int]:
            ids = []
            for _ in range(10):
                status, text = await _save(http, f"{fake.url}/{tenant}{SAVE_PATH}")
                assert status == 200, text
                ids.append(int(text))
            return ids

        cust1, cust2 = await asyncio.gather(client("Cust1"), client("Cust2"))
        assert cust1 == list(range(1, 11)) and cust2 == list(range(1, 11))

        async with http.get(fake.url + "/Cust1/_calls") as resp:
            own = (await resp.json())["calls"]
        assert len(own) == 10 and {c["tenant"] for c in own} == {"Cust1"}

        async with http.get(fake.url + "/_calls", params={"tenant": "Cust2"}) as resp:
            filtered = (await resp.json())["calls"]
        assert len(filtered) == 10 and {c["tenant"] for c in filtered} == {"Cust2"}

        async with http.get(fake.url + "/_calls") as resp:
            everyone = (await resp.json())["calls"]
        assert len(everyone) == 20 and {c["tenant"] for c in everyone} == {"Cust1", "Cust2"}

        async with http.get(fake.url + "/Cust2/_images/3") as resp:
            assert resp.status == 200
        async with http.get(fake.url + "/_health") as resp:
            health = await resp.json()
        assert health["tenants"] == {"mode": "isolated", "count": 2, "names": ["Cust1", "Cust2"]}
        assert health["calls"] == 20

        page = await (await http.get(fake.url + "/_calls", headers={"Accept": "text/html"})).text()
        assert "tenant Cust1" in page and 'src="/Cust2/_images/1"' in page

        assert len(fake.tenant("Cust1").calls) == 10
        fake.tenant("Cust1").assert_saved(type="PersonImage")
        assert len(fake.calls) == 0  # the default tenant saw none of it


async def test_requests_without_a_prefix_belong_to_the_default_tenant() -> None:
    async with FakeServer(port=0, tenants="isolated") as fake, ClientSession() as http:
        assert await _save(http, fake.url + SAVE_PATH) == (200, "1")
        assert await _save(http, f"{fake.url}/Cust1{SAVE_PATH}") == (200, "1")
        assert [r.prefix for r in fake.calls] == [""]


async def test_a_tenants_faults_and_reset_are_its_own() -> None:
    async with FakeServer(port=0, tenants="isolated") as fake, ClientSession() as http:
        fault = {"kind": "status", "status": 503}
        async with http.post(fake.url + "/Cust1/_faults", json=fault) as resp:
            assert resp.status == 201
        assert (await _save(http, f"{fake.url}/Cust1{SAVE_PATH}"))[0] == 503
        assert await _save(http, f"{fake.url}/Cust2{SAVE_PATH}") == (200, "1")
        async with http.post(fake.url + "/Cust2/_reset") as resp:
            assert resp.status == 200
        assert len(fake.tenant("Cust2").calls) == 0 and len(fake.tenant("Cust1").calls) == 1


async def test_past_max_tenants_a_new_prefix_gets_a_400_naming_the_limit() -> None:
    async with FakeServer(port=0, tenants="isolated", max_tenants=2) as fake, ClientSession() as http:
        assert (await _save(http, f"{fake.url}/Cust1{SAVE_PATH}"))[0] == 200
        assert (await _save(http, f"{fake.url}/Cust2{SAVE_PATH}"))[0] == 200
        status, text = await _save(http, f"{fake.url}/Cusst3{SAVE_PATH}")
        assert status == 400 and "max_tenants" in text and "Cusst3" in text
        assert fake.calls.last.status == 400  # journaled by the default tenant
        assert len(fake.tenants or ()) == 2


async def test_shared_mode_keeps_one_state_and_has_no_tenant_routes() -> None:
    async with FakeServer(port=0) as fake, ClientSession() as http:
        assert await _save(http, f"{fake.url}/Cust1{SAVE_PATH}") == (200, "1")
        assert await _save(http, f"{fake.url}/Cust2{SAVE_PATH}") == (200, "2")
        async with http.get(fake.url + "/_calls", params={"tenant": "cust2"}) as resp:
            assert [c["blob_id"] for c in (await resp.json())["calls"]] == [2]
    with pytest.raises(ConfigError, match="tenants are shared"):
        fake.tenant("Cust1")


def test_isolated_tenants_keep_their_state_files_apart_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    headers = {"Content-Type": "application/json", "Authorization": BASIC}

    def save(fake: Fake, tenant: str) -> int:
        outcome = fake.process(RawRequest.build("POST", f"/{tenant}{SAVE_PATH}", headers=headers, body=save_body()))
        assert outcome.status == 200
        return int(outcome.body)

    first = Fake(state=state, tenants="isolated")
    assert [save(first, "Cust1"), save(first, "Cust1"), save(first, "Cust2")] == [1, 2, 1]
    first.release()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.sqlite")) == [
        "state.sqlite",
        "state.tenants/Cust1.sqlite",
        "state.tenants/Cust2.sqlite",
    ]
    again = Fake(state=state, tenants="isolated")
    try:
        assert [name for name, _t in (again.tenants or ()).items()] == ["Cust1", "Cust2"]
        assert save(again, "Cust1") == 3 and save(again, "Cust2") == 2
    finally:
        again.release()


async def test_a_tenant_s_health_reports_the_fake_s_mode_and_settings() -> None:
    async with FakeServer(port=0, tenants="isolated") as fake, ClientSession() as http:
        assert (await _save(http, f"{fake.url}/Cust1{SAVE_PATH}"))[0] == 200
        async with http.get(fake.url + "/Cust1/_health") as resp:
            health = await resp.json()
        assert health["tenants"] == {
            "mode": "isolated",
            "count": 1,
            "names": ["Cust1"],
            "tenant": "Cust1",
            "exists": True,
        }
        assert health["settings"]["tenants"] == "isolated"
        assert health["settings"]["port"] == fake.port
        assert health["calls"] == 1


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("GET", "/_calls"),
        ("GET", "/_calls/1"),
        ("GET", "/_health"),
        ("GET", "/_images/1"),
        ("GET", "/_coverage"),
        ("GET", "/_faults"),
        ("HEAD", "/_calls"),
        ("DELETE", "/_calls"),
    ],
)
async def test_reading_a_tenant_s_routes_never_makes_the_tenant(method: str, route: str) -> None:
    async with FakeServer(port=0, tenants="isolated") as fake, ClientSession() as http:
        async with http.request(method, f"{fake.url}/Cust999{route}") as resp:
            assert resp.status < 500
            if route == "/_calls" and method == "GET":
                assert (await resp.json())["calls"] == []
            if route == "/_health":
                assert (await resp.json())["tenants"]["exists"] is False
        async with http.get(fake.url + "/_health") as resp:
            assert (await resp.json())["tenants"]["count"] == 0
        assert fake.tenants is not None and fake.tenants.find("Cust999") is None
        async with http.get(f"{fake.url}/Cust%20999/_calls") as resp:
            assert resp.status == 400  # not a tenant name, as for a call
        async with http.post(f"{fake.url}/Cust999/_reset") as resp:
            assert resp.status == 200  # a write makes it, as a call does
        assert fake.tenants.find("Cust999") is not None


async def test_where_tenants_mix_each_call_has_a_reference_unique_across_the_fake(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="mockserver")
    async with FakeServer(port=0, tenants="isolated", log_calls=True) as fake, ClientSession() as http:
        for prefix in ("/Cust1", "/Cust2", "/Cust1", "", "/cust2"):
            assert (await _save(http, f"{fake.url}{prefix}{SAVE_PATH}"))[0] == 200
        async with http.get(fake.url + "/_calls") as resp:
            everyone = (await resp.json())["calls"]
        refs = [c["ref"] for c in everyone]
        assert refs == ["Cust1#1", "Cust2#1", "Cust1#2", "#1", "Cust2#2"]
        async with http.get(fake.url + "/Cust2/_calls/2") as resp:
            assert (await resp.json())["ref"] == "Cust2#2"
        page = await (await http.get(fake.url + "/_calls", headers={"Accept": "text/html"})).text()
        assert all(f">{ref}</a>" in page for ref in refs)
    lines = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert [line.split(" ", 1)[0] for line in lines] == refs
    assert lines[1].startswith(f"Cust2#1 POST /Cust2{SAVE_PATH} -> 200")


async def test_shared_tenants_keep_plain_references() -> None:
    async with FakeServer(port=0) as fake, ClientSession() as http:
        for prefix in ("/Cust1", "/Cust2"):
            assert (await _save(http, f"{fake.url}{prefix}{SAVE_PATH}"))[0] == 200
        async with http.get(fake.url + "/_calls") as resp:
            assert [c["ref"] for c in (await resp.json())["calls"]] == ["#1", "#2"]
