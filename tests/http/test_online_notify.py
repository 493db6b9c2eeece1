"""State-change notifications: the documented JSON, a Token the fake signs, bounded delivery that never blocks."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from mockserver import Fake, ThreadedFakeServer
from mockserver.core.config import Settings
from mockserver.core.vocabulary.errors import ConfigError

URL = "http://127.0.0.1:9/state-change"


class Receiver:
    """A loopback State Change URL that answers 200, answers garbage, or hangs until released."""

    def __init__(self, mode: str) -> None:
        self.mode, self.bodies, self.release = mode, [], threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                if outer.mode == "hang":
                    outer.release.wait(10)  # bounded: the test releases it at the end
                    return
                status, body = (200, b"ok") if outer.mode == "ok" else (500, b"\x00garbage\xff")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/state-change"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def wait_done(fake: Fake, count: int) -> list:
    for _ in range(400):  # bounded: at most ~20 s
        notes = list(fake.notifier.notifications)
        if len(notes) >= count and all(n.done for n in notes):
            return notes
        time.sleep(0.05)
    raise AssertionError(f"notifications not done: {[n.to_json() for n in fake.notifier.notifications]}")


@pytest.fixture
def receiver(request):
    r = Receiver(request.param)
    yield r
    r.close()


def test_each_change_type_and_a_token_that_verifies():
    fake = Fake(online_hosts="sod,sod2,sod3", online_state_change_url=URL)
    fake.online.move("Cust1", "sod3")
    fake.online.set_state("Cust1", "Suspended")
    fake.online.set_state("Cust1", "Running")
    fake.online.set_state("Cust1", "OfflineMaintenance")
    fake.online.set_state("Cust1", "Running")
    fake.online.set_state("Cust1", "MigrationPending")  # nothing documented to send
    fake.online.set_state("Cust1", "Deleting")
    payloads = [n.payload for n in fake.notifier.notifications]
    assert [p["ChangeType"] for p in payloads] == [5, 2, 3, 0, 4]
    assert payloads[0]["PublicEndpoint"] == "sod3.invalid"  # the host's URL netloc (not yet served here)
    assert all("PublicEndpoint" not in p for p in payloads[1:])
    assert set(payloads[1]) == {"ChangeType", "ContextIdentifier", "VersionName", "FileVersion", "Token"}
    key = fake.notifier.public_key_pem()
    claims = jwt.decode(payloads[0]["Token"], key, algorithms=["RS256"], audience=URL)
    assert claims["sub"] == "Cust1" and claims["iss"] == "mockserver" and claims["ChangeType"] == 5
    assert claims["exp"] - claims["iat"] == 600
    assert all(not n.done for n in fake.notifier.notifications)  # no server: recorded, never sent


def test_reset_forgets_the_notifications():
    fake = Fake(online_hosts="sod,sod2,sod3", online_state_change_url=URL)
    fake.online.move("Cust1", "sod3")
    assert len(fake.notifier.notifications) == 1
    fake.reset()
    assert list(fake.notifier.notifications) == []


def test_no_url_no_notifications():
    fake = Fake(online_hosts="sod,sod2,sod3")
    fake.online.move("Cust1", "sod3")
    assert list(fake.notifier.notifications) == [] and fake.online.changes


@pytest.mark.parametrize("receiver", ["ok"], indirect=True)
def test_a_move_is_posted_to_the_state_change_url(receiver):
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2,sod3", online_state_change_url=receiver.url) as fake:
        requests.post(f"{fake.url}/_tenants/Cust1/move", json={"host": "sod3"}, timeout=10).raise_for_status()
        (note,) = wait_done(fake, 1)
        assert note.delivered and note.attempts == ["200"]
        assert receiver.bodies == [note.payload]
        assert note.payload["PublicEndpoint"] == urlsplit(fake.url_of("sod3")).netloc
        shown = requests.get(f"{fake.url}/_notifications", timeout=10).json()
        assert shown["notifications"][0]["delivered"] is True and "BEGIN PUBLIC KEY" in shown["public_key"]


@pytest.mark.parametrize("receiver", ["hang"], indirect=True)
def test_a_hanging_receiver_costs_only_the_record(receiver):
    with ThreadedFakeServer(
        port=0, online_hosts="sod,sod2,sod3", online_state_change_url=receiver.url, online_notify_timeout_ms=100
    ) as fake:
        fake.online.set_state("Cust1", "Suspended")
        # While the receiver hangs, the fake answers as ever.
        status = requests.get(f"{fake.url}/api/state/Cust1", timeout=10).json()
        assert status["State"] == "Suspended"
        (note,) = wait_done(fake, 1)
        assert note.attempts == ["timeout", "timeout", "timeout"] and not note.delivered


@pytest.mark.parametrize("receiver", ["garbage"], indirect=True)
def test_a_receiver_answering_garbage_is_retried_then_given_up(receiver):
    with ThreadedFakeServer(
        port=0, online_hosts="sod,sod2,sod3", online_state_change_url=receiver.url, online_notify_timeout_ms=100
    ) as fake:
        fake.online.set_state("Cust1", "Deleted")
        (note,) = wait_done(fake, 1)
        assert note.attempts == ["500", "500", "500"] and not note.delivered
        assert len(receiver.bodies) == 3


def test_a_closed_port_is_an_error_attempt():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/x"
    with ThreadedFakeServer(
        port=0, online_hosts="sod,sod2", online_state_change_url=closed, online_notify_timeout_ms=100
    ) as fake:
        fake.online.set_state("Cust1", "Suspended")
        (note,) = wait_done(fake, 1)
        assert len(note.attempts) == 3 and all(a.startswith("error: ") for a in note.attempts)


def test_the_url_route_and_setting_want_http():
    with pytest.raises(ConfigError, match="online_state_change_url"):
        Settings(online_hosts="sod,sod2", online_state_change_url="ftp://example.test/x")
    with ThreadedFakeServer(port=0, online_hosts="sod,sod2") as fake:
        bad = requests.post(f"{fake.url}/_notifications", json={"url": "file:///etc/passwd"}, timeout=10)
        assert bad.status_code == 400
        assert bad.json()["Violations"][0]["location"] == "body.url" and "file:///etc" in bad.json()["Message"]
        good = requests.post(f"{fake.url}/_notifications", json={"url": URL}, timeout=10)
        assert good.status_code == 200 and fake.notifier.url == URL
        off = requests.post(f"{fake.url}/_notifications", json={"url": None}, timeout=10)
        assert off.json()["url"] is None
