"""The fake as a test partner in other languages: the Node and shell examples, and the Python remote client,
each against a real `mockserver serve` process, each getting the message the in-process API raises.

The examples live in examples/node and examples/shell; docs/any-language.md shows them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import mockserver
from mockserver import Fake, RawRequest

ROOT = Path(__file__).resolve().parents[2]
NODE_EXAMPLE = ROOT / "examples" / "node" / "fake.test.mjs"
SHELL_EXAMPLE = ROOT / "examples" / "shell" / "save-and-assert.sh"
TOKEN = "any-language"
SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="  # the 1x1 GIF the examples send
HEADERS = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw"}


# What the shell example prints (docs/any-language.md shows it).
SHELL_OUTPUT = """\
Expected an accepted save with:
  outcome     = accepted
  Description = 'something else'
but none arrived.
1 call(s) recorded; the closest:
  #1 POST /api/v1/Agents/BLOB/SaveImageStream -> 200 blob id 1
      Description: expected 'something else', got 'from curl'
"""


def save_body(description: str) -> bytes:
    return json.dumps({"Type": "PersonImage", "Image": GIF, "Description": description}).encode()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, dict[str, str]]]:
    """A `mockserver serve` process on a free port, with an admin token; its URL and the clients' environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env["MOCKSERVER_ADMIN_TOKEN"] = TOKEN
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert banner.startswith("mockserver listening on "), banner
        url = banner.split()[3]
        yield url, {**env, "MOCKSERVER_URL": url}
    finally:
        server.terminate()
        server.wait(timeout=30)


def in_process_message(description: str, saved: str) -> str:
    """What `assert_saved(description=...)` raises in process after one save of `saved` (as the examples do)."""
    fake = Fake()
    raw = RawRequest.build("POST", SAVE_PATH, headers=HEADERS, body=save_body(saved))
    assert fake.process(raw).status == 200
    with pytest.raises(AssertionError) as caught:
        fake.assert_saved(description=description)
    return str(caught.value)


def tap_diagnostic(line: str) -> str:
    """A `# ...` line of node's TAP output back to what the test printed (TAP escapes \\ and #)."""
    return line[2:].replace("\\#", "#").replace("\\\\", "\\")


@pytest.mark.skipif(shutil.which("node") is None, reason="the Node example needs node (20 or later) on PATH")
def test_the_node_example_passes_and_gets_the_python_message(served: tuple[str, dict[str, str]]) -> None:
    _url, env = served
    done = subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(NODE_EXAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# pass 3" in done.stdout and "# fail 0" in done.stdout
    printed = [tap_diagnostic(line) for line in done.stdout.splitlines() if line.startswith('# {"message"')]
    assert len(printed) == 1
    assert json.loads(printed[0])["message"] == in_process_message("something else", "from node")


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("jq") is None, reason="the shell example needs curl and jq on PATH"
)
def test_the_shell_example_passes_and_prints_the_python_message(served: tuple[str, dict[str, str]]) -> None:
    _url, env = served
    done = subprocess.run(["bash", str(SHELL_EXAMPLE)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == SHELL_OUTPUT
    assert SHELL_OUTPUT.rstrip("\n") == in_process_message("something else", "from curl")


def test_the_python_remote_client_gets_the_python_message(served: tuple[str, dict[str, str]]) -> None:
    url, _env = served
    fake = mockserver.connect(url, admin_token=TOKEN)
    fake.reset()
    resp = requests.post(fake.api_url, data=save_body("from python"), headers=HEADERS, timeout=10)
    assert resp.status_code == 200
    assert fake.assert_saved(type="PersonImage", description="from python").blob_id == 1
    with pytest.raises(AssertionError) as caught:
        fake.assert_saved(description="something else")
    assert str(caught.value) == in_process_message("something else", "from python")
