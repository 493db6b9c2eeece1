"""docs/service.md's session with a served fake: an admin token, isolated tenants, the journal of one.

The script is pasted into the page verbatim (port 8080); the test runs it against a real
`mockserver serve` process on a free port and checks the output the page shows under it.
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """\
export MOCKSERVER_ADMIN_TOKEN=change-me MOCKSERVER_TENANTS=isolated
mockserver serve --port 8080 --quiet > mockserver.log &
server=$!
until curl -sf -o /dev/null -H "Authorization: Bearer $MOCKSERVER_ADMIN_TOKEN" http://127.0.0.1:8080/_health; do
  sleep 0.2
done

for tenant in Cust1 Cust2 Cust1; do
  curl -s http://127.0.0.1:8080/$tenant/api/v1/Agents/BLOB/SaveImageStream \\
    -H 'Authorization: Basic dGplMDpUamUw' -H 'Content-Type: application/json' \\
    -d '{"Type": "PersonImage", "Image": "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="}'
  echo " saved for $tenant"
done
curl -s -o /dev/null -w '/_calls without the token: %{http_code}\\n' http://127.0.0.1:8080/_calls
curl -s -H "Authorization: Bearer $MOCKSERVER_ADMIN_TOKEN" http://127.0.0.1:8080/Cust1/_calls \\
  | python3 -c 'import json, sys; print([call["blob_id"] for call in json.load(sys.stdin)["calls"]])'

kill $server
wait $server
"""

OUTPUT = """\
1 saved for Cust1
1 saved for Cust2
2 saved for Cust1
/_calls without the token: 401
[1, 2]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("curl") is None, reason="the script needs the curl command")
def test_the_served_fake_session(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", SCRIPT.replace("8080", str(free_port()))],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == OUTPUT, done.stdout + done.stderr
    log = (tmp_path / "mockserver.log").read_text()
    assert "  tenants = isolated  (env MOCKSERVER_TENANTS)" in log
    assert log.endswith("mockserver stopped\n")
