"""How to make the fake misbehave on purpose, and keep its state across a restart."""

import base64
import sqlite3
from collections import Counter

import pytest
import requests

from mockserver import ConfigError, Fake, ThreadedFakeServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
BODY = {"Type": "PersonImage", "Image": base64.b64encode(PNG).decode(), "Description": "avatar"}
AUTH = {"Authorization": "Basic dGplMDpUamUw"}


def test_ways_to_inject():
    fake = Fake()
    handle = fake.inject("status", status=503, times=2)  # the next two matching calls
    fake.inject("delay", delay_ms=3500, path="SaveImageStream")  # past the 3000 ms NsApiSlow threshold
    fake.inject("drop", fraction=0.1, seed=42)  # 10% of calls, the same 10% every run
    fake.inject("status", status=500, after_save=True)  # the "lost response"
    assert (handle.hits, handle.remaining) == (0, 2)
    handle.remove()
    assert fake.clear_faults() == 3


def save_with_retries(url, attempts=3):
    """The client under test: retries a dropped connection or a 5xx."""
    for _ in range(attempts):
        try:
            resp = requests.post(url, json=BODY, headers=AUTH, timeout=2)
        except requests.ConnectionError:
            continue
        if resp.status_code < 500:
            return resp
    raise RuntimeError("gave up")


@pytest.mark.superoffice(faults=[{"kind": "status", "status": 503, "times": 2}])
def test_client_retries_through_two_503s(superoffice_fake):
    resp = save_with_retries(superoffice_fake.api_url)
    assert resp.json() == 1  # the failed attempts used no id

    statuses = [(c.status, c.fault) for c in superoffice_fake.calls]
    assert statuses == [(503, "status 503"), (503, "status 503"), (200, None)]


def test_a_lost_response_shows_up_as_a_duplicate(superoffice_fake):
    # The save is stored, then the connection drops: the client never learns id 1.
    superoffice_fake.inject("drop", after_save=True)
    assert save_with_retries(superoffice_fake.api_url).json() == 2

    stored = Counter(c.image.sha256 for c in superoffice_fake.calls if c.blob_id is not None)
    assert max(stored.values()) == 2  # the same picture stored twice: the client duplicated data


def test_slow_answers_trip_the_client_timeout(superoffice_fake):
    superoffice_fake.inject("delay", delay_ms=500, path="SaveImageStream")
    with pytest.raises(requests.ReadTimeout):
        requests.post(superoffice_fake.api_url, json=BODY, headers=AUTH, timeout=0.2)


def test_faults_over_http(superoffice_fake):
    faults = superoffice_fake.url + "/_faults"
    requests.post(faults, json={"kind": "status", "status": 429, "retry_after": 5}, timeout=2)

    resp = requests.post(superoffice_fake.api_url, json=BODY, headers=AUTH, timeout=2)
    assert (resp.status_code, resp.headers["Retry-After"]) == (429, "5")
    assert requests.get(faults, timeout=2).json()["faults"][0]["hits"] == 1
    requests.delete(faults, timeout=2)


def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "fake.sqlite"
    with ThreadedFakeServer(port=0, state=state) as fake:
        assert requests.post(fake.api_url, json=BODY, headers=AUTH, timeout=2).json() == 1

    with ThreadedFakeServer(port=0, state=state) as again:
        assert requests.get(f"{again.url}/_images/1", timeout=2).content == PNG
        assert requests.post(again.api_url, json=BODY, headers=AUTH, timeout=2).json() == 2
        assert [c.blob_id for c in again.calls] == [1, 2]


def test_one_state_file_one_fake(tmp_path):
    fake = Fake(state=tmp_path / "fake.sqlite")
    with pytest.raises(ConfigError, match="in use by another running fake"):
        Fake(state=tmp_path / "fake.sqlite")
    fake.state.close()


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path):
    users = tmp_path / "app.sqlite"
    with sqlite3.connect(users) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(ConfigError, match="is not a mockserver state file"):
        Fake(state=users)
