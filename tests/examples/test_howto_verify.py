"""docs/beyond-one-call.md's `mockserver verify` run: against a server that answers its ids as JSON
strings, the command reports that check and the examples that needed the id, and exits 1. The
page shows the command and these lines."""

import asyncio
import shlex
import sys
from pathlib import Path

from aiohttp import web

from mockserver import Fake
from mockserver.http.app import build_app

COMMAND = "mockserver verify --base-url http://127.0.0.1:8080 --auth 'Basic dGplMDpUamUw'"
OUTPUT = """\
FAIL SaveImageStream 'valid PNG person image' (Accept: application/json): 200 application/json
    - body: expected a JSON int32, got JSON str '"1"'
PASS SaveImageStream 'valid PNG person image' (Accept: application/xml): 200 application/xml
...
FAIL ChangePersonImage 'attach the saved image' (Accept: application/json): no answer
    - needs $blob, but no earlier example returned a blob id
...
16 checks against http://127.0.0.1:8080: 8 failed
"""


@web.middleware
async def ids_as_strings(request, handler):
    """A server that keeps the contract except for one thing: the new id comes as "1", not 1."""
    response = await handler(request)
    if request.path.endswith("SaveImageStream") and response.status == 200 and response.content_type.endswith("json"):
        return web.json_response(bytes(response.body).decode())
    return response


async def test_verify_reports_the_string_id(aiohttp_server):
    app = build_app(Fake(port=0))
    app.middlewares.append(ids_as_strings)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")

    mockserver = str(Path(sys.executable).with_name("mockserver"))
    process = await asyncio.create_subprocess_exec(
        mockserver, *shlex.split(COMMAND.replace("http://127.0.0.1:8080", url))[1:], stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 1
    lines = out.decode().splitlines()
    shown = [line.replace("http://127.0.0.1:8080", url) for line in OUTPUT.splitlines() if line != "..."]
    assert all(line in lines for line in shown), out.decode()
    assert [lines.index(line) for line in shown if not line.startswith(" ")] == sorted(
        lines.index(line) for line in shown if not line.startswith(" ")
    )
    assert lines[-1] == shown[-1]
