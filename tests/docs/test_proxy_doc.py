"""docs/proxy.md: its shell block runs (against a drifting upstream and a fake), the output it shows
is what that run printed, its Python is a tested example verbatim, and it lists every drift kind."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import ThreadedFakeServer
from mockserver.core.proxy.shapes import KINDS

from ..proxy_support import wrong_server_in_thread

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "proxy.md").read_text(encoding="utf-8")
EXAMPLES = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "examples").iterdir() if p.is_file()}
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, flags=re.S)
SHOWN_UPSTREAM = "https://sod.superoffice.com/Cust12345"


def blocks(lang: str) -> list[str]:
    return [text for kind, text in BLOCKS if kind == lang]


def test_the_doc_has_one_script_one_python_example_and_the_output_they_give() -> None:
    assert sorted(kind for kind, _ in BLOCKS) == ["json", "python", "sh", "text"]


@pytest.mark.parametrize("block", blocks("python"))
def test_every_python_block_is_part_of_a_tested_example_file(block: str) -> None:
    assert any(block in text for text in EXAMPLES.values()), block[:300]


def test_the_table_lists_every_drift_kind_with_its_meaning() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (.*) \|$", DOC, flags=re.M)
    assert rows == list(KINDS.items())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_script(upstream: str) -> tuple[int, str]:
    (script,) = blocks("sh")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SANDBOX_URL": upstream,
        "SANDBOX_AUTH": "Basic dGplMDpUamUw",
    }
    env = {k: v for k, v in env.items() if not k.startswith("MOCKSERVER_")}
    done = subprocess.run(
        ["bash", "-c", script.replace("8080", str(free_port()))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="the script needs the curl command")
def test_the_script_fails_the_job_on_drift_and_shows_what_the_doc_shows() -> None:
    with wrong_server_in_thread() as wrong:
        upstream = f"{wrong}/string_id"
        code, out = run_script(upstream)
    assert code == 3, out
    assert "\n200\n" in out
    start = out.index('{"upstream"')
    shown, _end = json.JSONDecoder().raw_decode(out[start:])
    (documented,) = blocks("json")
    assert shown == json.loads(documented.replace(SHOWN_UPSTREAM, upstream))
    (summary,) = blocks("text")
    assert summary in out


@pytest.mark.skipif(shutil.which("curl") is None, reason="the script needs the curl command")
def test_the_script_passes_in_front_of_a_tenant_that_keeps_the_contract() -> None:
    with ThreadedFakeServer(port=0) as fake:
        code, out = run_script(fake.url + "/Cust12345")
        assert [c.status for c in fake.calls] == [200]
    assert code == 0, out
    assert "mockserver proxy stopped: 1 exchanges, 0 drift in 0" in out
