"""The image's HEALTHCHECK: GET /_health of the fake in this container, stdlib only.

Host and port come from the same MOCKSERVER_HOST / MOCKSERVER_PORT variables `mockserver serve`
reads (a wildcard bind is checked on loopback); MOCKSERVER_ADMIN_TOKEN, when set, is sent as the
bearer token the /_ routes then require. Exit 0 when the fake answers {"status": "ok"}, else 1.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def health_url(env: dict[str, str]) -> str:
    host = env.get("MOCKSERVER_HOST", "127.0.0.1").strip()
    host = WILDCARDS.get(host, host)
    port = env.get("MOCKSERVER_PORT", "").strip() or "8080"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/_health"


def main() -> int:
    env = dict(os.environ)
    request = urllib.request.Request(health_url(env), headers={"Accept": "application/json"})
    token = env.get("MOCKSERVER_ADMIN_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP proxy
    try:
        with opener.open(request, timeout=3) as response:
            answer = json.load(response)
    except Exception as exc:
        print(f"unhealthy: {request.full_url}: {exc}")
        return 1
    if answer.get("status") != "ok":
        print(f"unhealthy: {request.full_url}: {answer}")
        return 1
    print(f"healthy: {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
