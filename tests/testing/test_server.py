"""End to end: one save over real HTTP through the standalone server object."""

from __future__ import annotations

from aiohttp import ClientSession

from mockserver import FakeServer

from ..support import SAVE_PATH, json_headers, save_body


async def test_save_over_http_returns_first_id_and_records_it() -> None:
    async with FakeServer(port=0, first_id=33) as fake, ClientSession() as http:
        async with http.post(fake.url + SAVE_PATH, data=save_body(), headers=json_headers()) as resp:
            assert resp.status == 200
            assert await resp.text() == "33"
            assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        assert fake.calls.last.blob_id == 33
        assert fake.calls.last.type == "PersonImage"


def test_python_dash_m_without_a_command_prints_usage() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "mockserver"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: mockserver")
