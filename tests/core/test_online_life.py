"""The life of an Online tenant, pure: hosts, states, moves and what each means for a call (no sockets)."""

from __future__ import annotations

import json

import pytest

from mockserver.core.config import Settings
from mockserver.core.exchange import RawRequest
from mockserver.core.fake import Fake
from mockserver.core.online.clock import Clock
from mockserver.core.online.hosts import Hosts
from mockserver.core.online.states import CONTEXT_IDENTIFIER, RUNNING_STATES, STATE_NUMBERS, STATES
from mockserver.core.online.tenant_life import OnlineLife
from mockserver.core.tenants import TENANT_NAME
from mockserver.core.vocabulary.errors import ApiError, ConfigError

from ..support import ONLINE_STATES

GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
BODY = json.dumps({"Type": "PersonImage", "Image": GIF}).encode()
HEADERS = {"Authorization": "Basic dGplMDpUamUw", "Content-Type": "application/json"}
DOCUMENTED = list(ONLINE_STATES)


def life(**kw: object) -> OnlineLife:
    return OnlineLife(Hosts(("sod", "sod2", "sod3")), Clock(frozen=True, start=1_700_000_000), **kw)  # type: ignore[arg-type]


def save(fake: Fake, host: str, tenant: str = "Cust1"):
    return fake.process(
        RawRequest.build("POST", f"/{tenant}/api/v1/Agents/BLOB/SaveImageStream", headers=HEADERS, body=BODY, host=host)
    )


def test_a_context_identifier_is_what_isolated_tenants_take():
    assert CONTEXT_IDENTIFIER.pattern == TENANT_NAME.pattern


def test_every_documented_state_name_and_number_is_known():
    assert list(STATES) == DOCUMENTED
    assert STATE_NUMBERS["OfflineMaintenance"] == 6 and STATE_NUMBERS["MigrationPending"] == 12
    assert 7 not in STATE_NUMBERS.values() and 9 not in STATE_NUMBERS.values()


def test_status_has_the_documented_fields_and_points_at_the_current_host():
    online = life(valid_for=120)
    online.hosts.bind("sod2", "http://127.0.0.1:1002")
    online.hosts.bind("sod3", "http://127.0.0.1:1003")
    online.add("Cust12345")
    status = online.status("Cust12345")
    assert status == {
        "ContextIdentifier": "Cust12345",
        "Endpoint": "http://127.0.0.1:1002/Cust12345",
        "State": "Running",
        "IsRunning": True,
        "ValidUntil": "2023-11-14T22:15:20Z",  # 1_700_000_000 + 120 s on the frozen clock
        "Api": "http://127.0.0.1:1002/Cust12345/api",
        "Version": "Release_11.10_2026.02.24-02",
    }
    online.move("Cust12345", "sod3")
    assert online.status("Cust12345")["Endpoint"] == "http://127.0.0.1:1003/Cust12345"


def test_valid_until_follows_the_clock():
    online = life(valid_for=300)
    online.add("Cust1")
    online.clock.advance(hours=1)
    assert online.status("Cust1")["ValidUntil"] == "2023-11-14T23:18:20Z"


@pytest.mark.parametrize("state", DOCUMENTED)
def test_is_running_and_the_api_answer_in_every_state(state):
    online = life()
    online.set_state("Cust1", state)
    assert online.status("Cust1")["State"] == state
    assert online.status("Cust1")["IsRunning"] is (state in ("Running", "OnlineMaintenance"))
    refused = online.gate("sod2", "Cust1")
    if state in RUNNING_STATES:
        assert refused is None
    else:
        assert refused is not None and refused.error.status == 503
        assert refused.error.headers["Retry-After"] == "60"
        assert state in refused.error.text


def test_unknown_tenant_is_state_unknown_and_stays_unknown():
    online = life()
    status = online.status("Cust999")
    assert status["State"] == "Unknown" and status["IsRunning"] is False and status["Endpoint"] is None
    assert online.find("Cust999") is None  # asking does not make it


@pytest.mark.parametrize("bad", ["Cust 1", "", "../etc", "x" * 65])
def test_malformed_context_identifier_is_a_400_naming_it(bad):
    with pytest.raises(ApiError) as caught:
        life().status(bad)
    assert caught.value.status == 400
    assert caught.value.violations[0].location == "path.ContextIdentifier"


def test_unknown_host_and_state_are_400s_naming_them():
    online = life()
    with pytest.raises(ApiError) as host:
        online.move("Cust1", "sod9")
    assert host.value.status == 400 and "sod9" in host.value.text and "sod2" in host.value.text
    with pytest.raises(ApiError) as auth:
        online.move("Cust1", "sod")
    assert auth.value.status == 400 and "authentication host" in auth.value.text
    with pytest.raises(ApiError) as state:
        online.set_state("Cust1", "Sleeping")
    assert state.value.status == 400 and "Sleeping" in state.value.text and "OfflineMaintenance" in state.value.text


@pytest.mark.parametrize(
    ("calls", "seconds", "where"), [(0, None, "body.calls"), (None, 0, "body.seconds"), (1, 5, "body")]
)
def test_bad_spans_are_400s(calls, seconds, where):
    with pytest.raises(ApiError) as caught:
        life().set_state("Cust1", "Suspended", calls=calls, seconds=seconds)
    assert caught.value.violations[0].location == where


def test_421_on_the_auth_host_and_on_a_host_the_tenant_left():
    online = life()
    online.add("Cust1")
    on_auth = online.gate("sod", "Cust1")
    assert on_auth is not None and on_auth.error.status == 421 and on_auth.tenant == "Cust1"
    assert "Wrong subdomain used to access tenant" in on_auth.error.text
    assert online.gate("sod2", "Cust1") is None
    online.move("Cust1", "sod3")
    old = online.gate("sod2", "Cust1")
    assert old is not None and old.error.status == 421
    assert old.error.violations[0].expected == "sod3, the host Cust1 is on now"
    assert old.error.violations[0].got == "sod2"
    assert online.gate("sod3", "Cust1") is None


def test_move_after_n_calls():
    online = life()
    online.move("Cust1", "sod3", after_calls=2)
    assert online.gate("sod2", "Cust1") is None
    assert online.find("Cust1").host == "sod2"
    assert online.gate("sod2", "Cust1") is None  # the second call still arrives, then the tenant moves
    assert online.find("Cust1").host == "sod3"
    refused = online.gate("sod2", "Cust1")
    assert refused is not None and refused.error.status == 421
    assert [(c.kind, c.before, c.host) for c in online.changes] == [("move", "sod2", "sod3")]


def test_state_for_the_next_n_calls_then_back():
    online = life()
    online.set_state("Cust1", "OfflineMaintenance", calls=2)
    answers = [online.gate("sod2", "Cust1") for _ in range(3)]
    assert [a.error.status if a else 200 for a in answers] == [503, 503, 200]
    assert online.find("Cust1").state == "Running"
    assert [(c.before, c.state) for c in online.changes] == [
        ("Running", "OfflineMaintenance"),
        ("OfflineMaintenance", "Running"),
    ]


def test_state_for_a_span_of_time_on_the_clock():
    online = life()
    online.set_state("Cust1", "Suspended", seconds=600)
    refused = online.gate("sod2", "Cust1")
    assert refused is not None and refused.error.headers["Retry-After"] == "600"
    online.clock.advance(seconds=599)
    assert online.gate("sod2", "Cust1") is not None
    online.clock.advance(seconds=1)
    assert online.gate("sod2", "Cust1") is None
    assert online.status("Cust1")["State"] == "Running"


def test_a_state_for_a_while_returns_to_the_state_in_force_before():
    online = life()
    online.set_state("Cust1", "MigrationPending")
    online.set_state("Cust1", "OfflineMaintenance", calls=1)
    online.set_state("Cust1", "Suspended", calls=1)  # another spell: still returns to MigrationPending
    online.gate("sod2", "Cust1")
    assert online.find("Cust1").state == "MigrationPending"


def test_no_tenant_in_the_path_is_a_404_on_a_tenant_host_and_a_421_on_the_auth_host():
    online = life()
    bare = online.gate("sod2", "")
    assert bare is not None and bare.error.status == 404 and bare.tenant == ""
    auth = online.gate("sod", "")
    assert auth is not None and auth.error.status == 421


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"online_hosts": "sod"}, "at least one tenant host"),
        ({"online_hosts": "sod,sod"}, "twice"),
        ({"online_hosts": "sod,so d"}, "not a host name"),
        ({"online_hosts": "sod,sod2", "online_home": "sod"}, "online_home"),
        ({"online_hosts": "sod,sod2", "online_tenants": "Cust 1"}, "online_tenants"),
        ({"online_hosts": "sod,sod2", "online_valid_for": -1}, "online_valid_for"),
    ],
)
def test_settings_that_cannot_work_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        Settings(**changes)


def test_online_mode_implies_isolated_tenants_and_the_home_setting():
    settings = Settings(online_hosts="sod,sod2,sod3", online_home="SOD3", online_tenants="Cust1")
    assert settings.tenants == "isolated" and settings.online_hosts == ("sod", "sod2", "sod3")
    fake = Fake(settings)
    assert fake.online is not None and fake.online.find("Cust1").host == "sod3"


# ---- through Fake.process ------------------------------------------------------------------


def test_a_move_keeps_ids_images_and_journal_and_the_old_host_answers_421():
    fake = Fake(online_hosts="sod,sod2,sod3")
    assert save(fake, "sod2").body == b"1"
    fake.online.move("Cust1", "sod3")
    old = save(fake, "sod2")
    assert old.status == 421 and b"Wrong subdomain used to access tenant" in old.body
    assert save(fake, "sod3").body == b"2"  # the same ids continue on the new host
    tenant = fake.tenant("Cust1")
    assert sorted(tenant.images) == [1, 2]
    assert [(c.status, c.extra["host"]) for c in tenant.calls] == [(200, "sod2"), (421, "sod2"), (200, "sod3")]
    refused = tenant.calls[1]
    assert not refused.accepted and refused.operation == "SaveImageStream" and refused.prefix == "/Cust1"
    assert "sod3" in refused.violations[0].expected
    assert len(fake.calls) == 0  # nothing landed in the default tenant


def test_a_call_on_the_auth_host_is_journaled_rejected_with_the_tenant():
    fake = Fake(online_hosts="sod,sod2", online_tenants="Cust1")
    out = save(fake, "sod")
    assert out.status == 421
    assert [(c.status, c.extra["host"]) for c in fake.tenant("Cust1").calls] == [(421, "sod")]
    assert dict(fake.tenant("Cust1").calls[0].headers)["Authorization"] != HEADERS["Authorization"]  # redacted


def test_an_unavailable_state_answers_503_with_retry_after_and_is_journaled():
    fake = Fake(online_hosts="sod,sod2", online_tenants="Cust1")
    fake.online.set_state("Cust1", "OfflineMaintenance", calls=1)
    out = save(fake, "sod2")
    assert out.status == 503 and out.headers["Retry-After"] == "60" and b"OfflineMaintenance" in out.body
    assert save(fake, "sod2").body == b"1"  # no id was used by the refused call
    assert [c.status for c in fake.tenant("Cust1").calls] == [503, 200]


def test_reset_puts_tenants_back_where_they_started():
    fake = Fake(online_hosts="sod,sod2,sod3", online_tenants="Cust1")
    fake.online.move("Cust1", "sod3")
    fake.online.set_state("Cust2", "Suspended")
    fake.reset()
    assert fake.online.find("Cust1").host == "sod2" and fake.online.find("Cust2") is None
    assert fake.online.changes == []


# ---- across a restart (the state file) -----------------------------------------------------


def test_hosts_and_states_survive_a_restart(tmp_path):
    state = tmp_path / "state.sqlite"
    first = Fake(online_hosts="sod,sod2,sod3", state=state)
    assert save(first, "sod2").body == b"1"
    first.online.move("Cust1", "sod3")
    first.online.set_state("Cust2", "Suspended", calls=2)
    first.online.move("Cust2", "sod3", after_calls=4)
    first.release()
    assert (tmp_path / "state.online.json").exists()

    again = Fake(online_hosts="sod,sod2,sod3", state=state)
    assert again.online.find("Cust1").host == "sod3"
    cust2 = again.online.find("Cust2")
    assert (cust2.state, cust2.calls_left, cust2.move_to, cust2.move_after) == ("Suspended", 2, "sod3", 4)
    assert save(again, "sod2").status == 421
    assert save(again, "sod3").body == b"2"  # ids and the journal came back from the tenant's SQLite file
    assert [c.status for c in again.tenant("Cust1").calls] == [200, 421, 200]
    again.release()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{", "cannot be read back"),
        ('{"version": 1, "tenants": [{"name": "Cust1", "host": "sod9"}]}', "sod9"),
        ('{"version": 1, "tenants": [{"name": "Cust1", "host": "sod2", "state": "Napping"}]}', "Napping"),
        ('{"version": 1, "tenants": [{"name": "Cust1", "host": "sod2", "colour": "red"}]}', "keys"),
        ('{"version": 2, "tenants": []}', "version"),
    ],
)
def test_a_damaged_online_state_file_is_named_not_a_crash(tmp_path, text, named):
    (tmp_path / "state.online.json").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Fake(online_hosts="sod,sod2,sod3", state=tmp_path / "state.sqlite")
    assert "state.online.json" in str(caught.value) and named in str(caught.value)
