"""How a client of SuperOffice Online finds its tenant, follows a move and waits out maintenance,
tested against the fake's Online mode (`--online-hosts sod,sod2,sod3`).

The client reads the tenant status API on the authentication host, saves on the endpoint it
names, gets moved (the old host answers 421 "Wrong subdomain used to access tenant"), looks the
tenant up again and saves on the new host; the ids go on where they were.
"""

import base64
import shutil
import subprocess

import pytest
import requests

from mockserver import ThreadedFakeServer

GIF = base64.b64encode(base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")).decode()
AUTH = ("tje0", "Tje0")
SAVE = "/api/v1/Agents/BLOB/SaveImageStream"


class OnlineClient:
    """What production code does: cache the tenant's endpoint, look it up again on a 421."""

    def __init__(self, auth_url: str, tenant: str) -> None:
        self.auth_url, self.tenant, self.endpoint = auth_url, tenant, None

    def look_up(self) -> str:
        status = requests.get(f"{self.auth_url}/api/state/{self.tenant}", timeout=10).json()
        assert status["IsRunning"], status["State"]
        self.endpoint = status["Endpoint"]
        return self.endpoint

    def save(self, body: dict) -> int:
        for _attempt in range(2):  # at most one lookup again
            answer = requests.post((self.endpoint or self.look_up()) + SAVE, json=body, auth=AUTH, timeout=10)
            if answer.status_code != 421:
                answer.raise_for_status()
                return answer.json()
            self.endpoint = None  # moved: ask the status API where the tenant is now
        raise AssertionError("still misdirected after a fresh lookup")


def test_a_client_follows_its_tenant_across_a_move():
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2,sod3", online_tenants="Cust12345") as fake:
        client = OnlineClient(fake.url, "Cust12345")  # fake.url is the authentication host
        assert client.save({"Type": "PersonImage", "Image": GIF}) == 1
        first_endpoint = client.endpoint

        fake.online.move("Cust12345", "sod3")  # or POST /_tenants/Cust12345/move {"host": "sod3"}
        old = requests.post(first_endpoint + SAVE, json={"Type": "PersonImage", "Image": GIF}, auth=AUTH, timeout=10)
        assert old.status_code == 421
        assert old.json()["Message"].startswith("Wrong subdomain used to access tenant")

        assert client.save({"Type": "PersonImage", "Image": GIF}) == 2  # 421, lookup, save on sod3
        assert client.endpoint == fake.url_of("sod3") + "/Cust12345"

        calls = fake.tenant("Cust12345").calls  # one journal, wherever the calls arrived
        assert [(c.status, c.extra["host"]) for c in calls] == [
            (200, "sod2"),
            (421, "sod2"),
            (421, "sod2"),
            (200, "sod3"),
        ]


def test_maintenance_for_the_next_call():
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2,sod3", online_tenants="Cust12345") as fake:
        fake.online.set_state("Cust12345", "OfflineMaintenance", calls=1)
        away = requests.post(fake.api_url, json={"Type": "PersonImage", "Image": GIF}, auth=AUTH, timeout=10)
        assert away.status_code == 503
        assert away.headers["Retry-After"] == "60"
        assert away.json()["Message"] == "The tenant Cust12345 is OfflineMaintenance: its APIs are not available."
        assert requests.post(fake.api_url, json={"Type": "PersonImage", "Image": GIF}, auth=AUTH, timeout=10).ok


def test_an_upgrade_for_ten_minutes_on_the_clock():
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2,sod3", online_tenants="Cust12345") as fake:
        fake.online.set_state("Cust12345", "OfflineMaintenance", seconds=600)
        status = requests.get(f"{fake.url}/api/state/Cust12345", timeout=10).json()
        assert status["State"] == "OfflineMaintenance" and status["IsRunning"] is False
        fake.clock.advance(minutes=10)  # no sleeping: the fake's clock moves
        status = requests.get(f"{fake.url}/api/state/Cust12345", timeout=10).json()
        assert status["State"] == "Running" and status["IsRunning"] is True


CURL_SESSION = """\
AUTH_URL=http://127.0.0.1:8080
endpoint() {
  curl -s "$AUTH_URL/api/state/Cust12345" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Endpoint"])'
}
save() {
  curl -s -w ' %{http_code}\\n' "$1/api/v1/Agents/BLOB/SaveImageStream" \\
    -H 'Authorization: Basic dGplMDpUamUw' -H 'Content-Type: application/json' \\
    -d '{"Type": "PersonImage", "Image": "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="}'
}
OLD=$(endpoint)
save "$OLD"
curl -s -o /dev/null "$AUTH_URL/_tenants/Cust12345/move" -H 'Content-Type: application/json' -d '{"host": "sod3"}'
save "$OLD" | grep -o '"Message":"[^;]*\\| 421$'
save "$(endpoint)"
"""
CURL_OUTPUT = """\
1 200
"Message":"Wrong subdomain used to access tenant: sod2
 421
2 200
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell example needs curl on PATH")
def test_the_curl_session():
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2,sod3", online_tenants="Cust12345") as fake:
        done = subprocess.run(
            ["bash", "-c", CURL_SESSION.replace("http://127.0.0.1:8080", fake.url)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == CURL_OUTPUT
