"""A client of the fake, standard library only: save one image through the tenant URL, then read
the journal (/_calls) and the stored bytes (/_images/{id}) back.

    FAKE_URL=http://127.0.0.1:8080 python client.py

Settings (environment): FAKE_URL (default http://fake:8080, the compose service), TENANT (default
Cust12345), MOCKSERVER_ADMIN_TOKEN (sent as a bearer token on the /_ routes when the fake has one),
WAIT (seconds to keep trying while the fake is not up yet, default 30). Exit status 0 when the
image went in and came back unchanged, 1 otherwise.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

FAKE_URL = os.environ.get("FAKE_URL", "http://fake:8080").rstrip("/")
TENANT = os.environ.get("TENANT", "Cust12345").strip("/")
TOKEN = os.environ.get("MOCKSERVER_ADMIN_TOKEN", "")
WAIT = float(os.environ.get("WAIT", "30"))
BASIC = "Basic dGplMDpUamUw"  # tje0:Tje0, the sample credentials of SuperOffice's documentation
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")  # 1x1

# Talk to the fake directly, whatever HTTP proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(FAKE_URL + path, data=body, method=method, headers=headers or {})
    with OPENER.open(request, timeout=10) as response:
        data: bytes = response.read()
    return data


def admin(path: str) -> bytes:
    return call("GET", path, headers={"Authorization": f"Bearer {TOKEN}"} if TOKEN else {})


def wait_until_up() -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            admin("/_health")
            return
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"client: {FAKE_URL} did not answer within {WAIT:g}s: {exc}") from None
            time.sleep(0.5)


def main() -> int:
    wait_until_up()
    path = f"/{TENANT}/api/v1/Agents/BLOB/SaveImageStream"
    body = json.dumps({"Type": "PersonImage", "Image": base64.b64encode(GIF).decode(), "Description": "compose"})
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Authorization": BASIC}
    blob_id = json.loads(call("POST", path, body.encode(), headers))
    print(f"client: saved blob id {blob_id} at {FAKE_URL}{path}")

    calls = json.loads(admin("/_calls"))["calls"]
    mine = [c for c in calls if c.get("blob_id") == blob_id]
    if not mine:
        print(f"client: blob id {blob_id} is not in /_calls", file=sys.stderr)
        return 1
    record = mine[-1]
    print(f"client: /_calls #{record['seq']} {record['method']} {record['path']} -> {record['status']}")

    stored = admin(f"/_images/{blob_id}")
    if stored != GIF:
        print(f"client: /_images/{blob_id} holds {len(stored)} other bytes", file=sys.stderr)
        return 1
    print(f"client: /_images/{blob_id} is the {len(stored)}-byte GIF that was sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
