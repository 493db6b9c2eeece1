"""Online mode over HTTP: a listener per host, the status API, the Api version JSON, 421s, moves and states."""

from __future__ import annotations

import os
import re

import pytest
import requests

from mockserver import ThreadedFakeServer
from mockserver.core.config import Settings
from mockserver.tools.cli import banner, build_parser, settings_and_sources

GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
BODY = {"Type": "PersonImage", "Image": GIF}
AUTH = ("tje0", "Tje0")
SAVE = "/api/v1/Agents/BLOB/SaveImageStream"
STATUS_FIELDS = {"ContextIdentifier", "Endpoint", "State", "IsRunning", "ValidUntil", "Api", "Version"}


@pytest.fixture
def online():
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2,sod3", online_tenants="Cust12345") as fake:
        yield fake


def test_each_host_listens_on_a_port_of_its_own(online):
    urls = {name: online.url_of(name) for name in ("sod", "sod2", "sod3")}
    assert len(set(urls.values())) == 3
    assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+", u) for u in urls.values())
    assert online.url == urls["sod"]
    assert online.api_url == f"{urls['sod2']}/Cust12345{SAVE}"  # tenants start on the second host
    health = requests.get(f"{online.url}/_health", timeout=10).json()
    assert health["online"]["hosts"] == [
        {"name": "sod", "url": urls["sod"], "role": "authentication"},
        {"name": "sod2", "url": urls["sod2"], "role": "tenants"},
        {"name": "sod3", "url": urls["sod3"], "role": "tenants"},
    ]
    assert health["tenants"]["mode"] == "isolated"


def test_status_api_without_credentials_answers_the_documented_fields(online):
    answer = requests.get(f"{online.url}/api/state/Cust12345", headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    status = answer.json()
    assert set(status) == STATUS_FIELDS
    assert status["Endpoint"] == f"{online.url_of('sod2')}/Cust12345"
    assert status["Api"] == status["Endpoint"] + "/api"
    assert status["State"] == "Running" and status["IsRunning"] is True
    version = requests.get(status["Api"], timeout=10).json()
    assert version["v1"] == status["Api"] + "/v1/"
    assert version["NetServerLabel"] == status["Version"]


def test_unknown_and_malformed_tenants(online):
    unknown = requests.get(f"{online.url}/api/state/Cust999", timeout=10)
    assert unknown.status_code == 200 and unknown.json()["State"] == "Unknown"
    bad = requests.get(f"{online.url}/api/state/Cust%20999", timeout=10)
    assert bad.status_code == 400
    assert bad.json()["Violations"][0]["location"] == "path.ContextIdentifier"
    assert "Cust 999" in bad.json()["Message"]


def test_status_api_is_on_the_auth_host_only(online):
    on_tenant_host = requests.get(f"{online.url_of('sod2')}/api/state/Cust12345", timeout=10)
    assert on_tenant_host.status_code == 404


def test_save_get_moved_see_421_look_up_again_save_on_the_new_host(online):
    status = requests.get(f"{online.url}/api/state/Cust12345", timeout=10).json()
    first = requests.post(status["Endpoint"] + SAVE, json=BODY, auth=AUTH, timeout=10)
    assert first.json() == 1
    moved = requests.post(f"{online.url}/_tenants/Cust12345/move", json={"host": "sod3"}, timeout=10)
    assert moved.status_code == 200 and moved.json()["host"] == "sod3"
    old = requests.post(status["Endpoint"] + SAVE, json=BODY, auth=AUTH, timeout=10)
    assert old.status_code == 421
    assert old.json()["ErrorType"] == "WrongSubdomainException"
    assert old.json()["Message"].startswith("Wrong subdomain used to access tenant")
    assert requests.get(status["Api"], timeout=10).status_code == 421  # the version JSON moved too
    again = requests.get(f"{online.url}/api/state/Cust12345", timeout=10).json()
    assert again["Endpoint"] == f"{online.url_of('sod3')}/Cust12345"
    assert requests.post(again["Endpoint"] + SAVE, json=BODY, auth=AUTH, timeout=10).json() == 2
    calls = requests.get(f"{online.url}/Cust12345/_calls", timeout=10).json()["calls"]
    assert [(c["status"], c["extra"]["host"]) for c in calls] == [(200, "sod2"), (421, "sod2"), (200, "sod3")]
    image = requests.get(f"{online.url_of('sod3')}/Cust12345/_images/1", timeout=10)
    assert image.status_code == 200  # the image saved on sod2 moved with the tenant


def test_agent_call_on_the_auth_host_is_421(online):
    answer = requests.post(f"{online.url}/Cust12345{SAVE}", json=BODY, auth=AUTH, timeout=10)
    assert answer.status_code == 421
    assert "Cust12345 is on sod2 now" in answer.json()["Message"]


def test_state_route_for_n_calls(online):
    endpoint = online.online.endpoint("Cust12345")
    set_ = requests.post(
        f"{online.url}/_tenants/Cust12345/state", json={"state": "OfflineMaintenance", "calls": 1}, timeout=10
    )
    assert set_.status_code == 200 and set_.json()["status"]["IsRunning"] is False
    away = requests.post(endpoint + SAVE, json=BODY, auth=AUTH, timeout=10)
    assert away.status_code == 503 and away.headers["Retry-After"] == "60"
    assert "OfflineMaintenance" in away.json()["Message"]
    assert requests.post(endpoint + SAVE, json=BODY, auth=AUTH, timeout=10).json() == 1


def test_state_route_for_a_span_of_time_on_the_clock(online):
    endpoint = online.online.endpoint("Cust12345")
    requests.post(f"{online.url}/_tenants/Cust12345/state", json={"state": "Suspended", "seconds": 30}, timeout=10)
    assert requests.post(endpoint + SAVE, json=BODY, auth=AUTH, timeout=10).status_code == 503
    online.clock.advance(seconds=30)
    assert requests.post(endpoint + SAVE, json=BODY, auth=AUTH, timeout=10).status_code == 200


def test_move_after_n_calls_route(online):
    endpoint = online.online.endpoint("Cust12345")
    requests.post(f"{online.url}/_tenants/Cust12345/move", json={"host": "sod3", "after_calls": 1}, timeout=10)
    assert requests.post(endpoint + SAVE, json=BODY, auth=AUTH, timeout=10).status_code == 200
    assert requests.post(endpoint + SAVE, json=BODY, auth=AUTH, timeout=10).status_code == 421
    changes = requests.get(f"{online.url}/_tenants", timeout=10).json()["changes"]
    assert [(c["kind"], c["before"], c["host"]) for c in changes] == [("move", "sod2", "sod3")]


@pytest.mark.parametrize(
    ("route", "body", "location", "named"),
    [
        ("move", {"host": "sod9"}, "body.host", "sod9"),
        ("move", {"host": "sod"}, "body.host", "sod"),
        ("move", {}, "body.host", "nothing"),
        ("move", {"host": "sod3", "after_calls": "two"}, "body.after_calls", "two"),
        ("move", {"host": "sod3", "hots": 1}, "body", "hots"),
        ("state", {"state": "Asleep"}, "body.state", "Asleep"),
        ("state", {"state": "Suspended", "seconds": "soon"}, "body.seconds", "soon"),
        ("state", {"state": "Suspended", "calls": 0}, "body.calls", "0"),
        ("state", [1], "body", "1"),
    ],
)
def test_bad_route_input_is_a_400_naming_it(online, route, body, location, named):
    answer = requests.post(f"{online.url}/_tenants/Cust12345/{route}", json=body, timeout=10)
    assert answer.status_code == 400
    error = answer.json()
    assert error["Error"] is True and error["Violations"][0]["location"] == location
    assert named in error["Violations"][0]["got"]


def test_route_body_must_be_json(online):
    answer = requests.post(f"{online.url}/_tenants/Cust12345/move", data="host=sod3", timeout=10)
    assert answer.status_code == 415
    broken = requests.post(
        f"{online.url}/_tenants/Cust12345/move", data="{", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert broken.status_code == 400 and broken.json()["Violations"][0]["location"] == "body"
    bad_name = requests.post(f"{online.url}/_tenants/Cust%201/move", json={"host": "sod3"}, timeout=10)
    assert bad_name.status_code == 400


def test_tenant_routes_without_online_mode_say_how_to_turn_it_on():
    with ThreadedFakeServer(port=0) as fake:
        answer = requests.get(f"{fake.url}/_tenants", timeout=10)
    assert answer.status_code == 404 and "--online-hosts" in answer.json()["Message"]


def test_one_tenant_route(online):
    known = requests.get(f"{online.url}/_tenants/Cust12345", timeout=10).json()
    assert known["host"] == "sod2" and set(known["status"]) == STATUS_FIELDS
    assert requests.get(f"{online.url}/_tenants/Cust404", timeout=10).status_code == 404


def test_a_call_without_a_tenant_on_a_tenant_host_is_404(online):
    answer = requests.post(online.url_of("sod2") + SAVE, json=BODY, auth=AUTH, timeout=10)
    assert answer.status_code == 404 and "/Cust12345/api/v1" in answer.json()["Message"]


def test_banner_lists_every_host(online):
    text = banner(online, {}, online.settings)
    for name, role in (("sod", "authentication"), ("sod2", "tenants"), ("sod3", "tenants")):
        assert f"  host {name} ({role}): {online.url_of(name)}" in text


def test_option_and_environment_variable(monkeypatch):
    for key in [k for k in os.environ if k.startswith("MOCKSERVER_")]:
        monkeypatch.delenv(key)
    parsed = settings_and_sources(build_parser().parse_args(["serve", "--online-hosts", "sod,sod2,sod3"]))[0]
    assert parsed.online_hosts == ("sod", "sod2", "sod3")
    monkeypatch.setenv("MOCKSERVER_ONLINE_HOSTS", "online, online2")
    monkeypatch.setenv("MOCKSERVER_ONLINE_TENANTS", "Cust1")
    from_env = settings_and_sources(build_parser().parse_args(["serve"]))[0]
    assert from_env.online_hosts == ("online", "online2") and from_env.online_tenants == ("Cust1",)
    assert Settings().online_hosts == ()


def test_fixed_ports_count_up_from_the_port_setting():
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2") as probe:
        free = int(probe.url_of("sod").rsplit(":", 1)[1])
    # Ports in a row are not promised free; a bound one fails start, which is the message checked.
    try:
        with ThreadedFakeServer(port=free, online_hosts="sod,sod2") as fake:
            assert fake.url_of("sod2").endswith(f":{free + 1}")
    except OSError:
        pytest.skip(f"port {free + 1} was taken by another process meanwhile")


@pytest.mark.superoffice(online_hosts="sod,sod2,sod3", online_tenants="Cust7")
def test_marker_keyword(superoffice_fake):
    status = requests.get(f"{superoffice_fake.url}/api/state/Cust7", timeout=10).json()
    assert status["Endpoint"] == f"{superoffice_fake.url_of('sod2')}/Cust7"
    superoffice_fake.online.move("Cust7", "sod3")  # the Python method on the fixture
    assert requests.post(superoffice_fake.api_url, json=BODY, auth=AUTH, timeout=10).json() == 1
    assert superoffice_fake.api_url.startswith(superoffice_fake.url_of("sod3"))
