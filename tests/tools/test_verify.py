"""Provider verification: the fake passes; servers that break the contract are caught."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from mockserver import Fake, FakeServer, ThreadedFakeServer
from mockserver.core.loader import load_contracts
from mockserver.http.app import build_app
from mockserver.tools.cli import main
from mockserver.tools.verify import verify

from ..support import BASIC

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AUTH = {"Authorization": BASIC}


async def test_the_fake_passes_every_check() -> None:
    async with FakeServer(port=0) as fake:
        report = await verify(fake.url, fake.contracts, AUTH)
    assert report.ok, report.text()
    assert len(report.checks) == 16
    assert {c.operation for c in report.checks} == {c.name for c in fake.contracts}
    assert {c.accept for c in report.checks} == {"application/json", "application/xml", "application/octet-stream"}
    # The flow ran for real: the saved blob was attached and read back.
    assert fake.person_images == {1: 1} and fake.project_images == {1: 1}


def test_cli_against_the_fake_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedFakeServer(port=0) as fake:
        assert main(["verify", "--base-url", fake.url, "--auth", BASIC]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert out.rstrip().endswith(f"16 checks against {fake.url}: 0 failed")


async def serve_wrong(aiohttp_server: Any, middleware: Any) -> str:
    """Serve a real fake behind a middleware that breaks one rule of the contract."""
    app = build_app(Fake(port=0))
    app.middlewares.append(middleware)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@web.middleware
async def answers_500(request: web.Request, handler: Handler) -> web.StreamResponse:
    return web.Response(status=500, text="Internal Server Error")


@web.middleware
async def string_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.path.endswith("SaveImageStream") and response.status == 200 and response.content_type.endswith("json"):
        assert isinstance(response, web.Response) and response.body is not None
        return web.json_response(bytes(response.body).decode())  # "33" instead of 33
    return response


@web.middleware
async def ignores_accept(request: web.Request, handler: Handler) -> web.StreamResponse:
    headers = request.headers.copy()
    headers["Accept"] = "application/json"
    return await handler(request.clone(headers=headers))


async def test_a_server_error_is_reported_for_every_example(aiohttp_server: Any) -> None:
    url = await serve_wrong(aiohttp_server, answers_500)
    report = await verify(url, load_contracts(), AUTH)
    assert not report.ok
    save = [c for c in report.checks if c.operation == "SaveImageStream"]
    assert all(not c.ok for c in save)
    assert save[0].problems[0] == "status: expected 200, got 500"
    # Examples that need the saved id cannot run and say why.
    attach = next(c for c in report.checks if c.example == "attach the saved image")
    assert attach.problems == ("needs $blob, but no earlier example returned a blob id",)


async def test_a_string_id_is_reported_as_the_wrong_body_shape(aiohttp_server: Any) -> None:
    url = await serve_wrong(aiohttp_server, string_id)
    report = await verify(url, load_contracts(), AUTH)
    failed = report.failed
    assert failed[0].operation == "SaveImageStream" and failed[0].accept == "application/json"
    assert failed[0].problems == ("body: expected a JSON int32, got JSON str '\"1\"'",)
    assert "FAIL SaveImageStream 'valid PNG person image' (Accept: application/json): 200 application/json" in (
        report.text()
    )


async def test_ignoring_accept_is_reported_per_format(aiohttp_server: Any) -> None:
    url = await serve_wrong(aiohttp_server, ignores_accept)
    report = await verify(url, load_contracts(), AUTH)
    problems = {(c.operation, c.accept): c.problems for c in report.failed}
    assert problems == {
        ("SaveImageStream", "application/xml"): (
            "media type: expected application/xml (asked for by Accept), got application/json",
        ),
        ("GetBlobStream", "application/xml"): (
            "media type: expected application/xml (asked for by Accept), got application/json",
        ),
        ("GetBlobStream", "application/octet-stream"): (
            "media type: expected application/octet-stream (asked for by Accept), got application/json",
        ),
    }


@pytest.mark.parametrize("middleware", [answers_500, string_id, ignores_accept])
async def test_cli_exits_non_zero_on_any_deviation(
    aiohttp_server: Any, middleware: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await serve_wrong(aiohttp_server, middleware)
    # The command runs its own event loop; the wrong server keeps serving from this one.
    code = await asyncio.to_thread(main, ["verify", "--base-url", url, "--auth", BASIC])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL " in out and "\n    - " in out
    assert " failed" in out.splitlines()[-1] and not out.splitlines()[-1].endswith(": 0 failed")


def test_cli_rejects_a_malformed_header(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--base-url", "http://127.0.0.1:9", "--header", "no-colon"]) == 2
    assert "--header must be NAME:VALUE" in capsys.readouterr().err


async def test_an_unreachable_server_is_one_message_not_a_crash() -> None:
    report = await verify("http://127.0.0.1:9", load_contracts(), AUTH, timeout=5)
    assert not report.ok and report.checks == []
    assert report.unreachable is not None
    assert report.text().count("\n") == 0
    assert report.text().startswith("error: cannot connect to http://127.0.0.1:9: ")


def test_cli_against_a_refused_port_says_so_once_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--base-url", "http://127.0.0.1:9", "--auth", BASIC]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("cannot connect") == 1 and "ClientConnectorError" not in err


def test_cli_without_auth_against_the_fake_hints_at_auth(capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedFakeServer(port=0) as fake:
        assert main(["verify", "--base-url", fake.url]) == 1
    out = capsys.readouterr().out
    assert out.rstrip().endswith(
        "hint: every check got 401: pass --auth 'Basic …' (any well-formed credential for the fake), "
        "or the credentials the server knows"
    )
