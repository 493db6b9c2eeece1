"""Upstreams for the proxy's tests: one aiohttp server playing several deliberately wrong tenants.

The first path segment names the tenant: a proxy whose upstream is ``<url>/string_id`` gets
the answers of `string_id` below. Each answers every path the same way, ignoring the request.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

from aiohttp import web

SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
SO_ERROR = {
    "Error": True,
    "ErrorType": "SoCredentialsException",
    "Message": "Invalid credentials",
    "ErrorSource": "SuperOffice.Services.WebApi",
}


async def redirect(request: web.Request) -> web.Response:
    """An undocumented 302 to a login page (a gateway in front of the tenant)."""
    return web.Response(status=302, headers={"Location": "https://login.example.com/?return=/api"})


async def string_id(request: web.Request) -> web.Response:
    """The new id as a JSON string, not an int32."""
    return web.Response(body=b'"33"', content_type="application/json")


async def other_error(request: web.Request) -> web.Response:
    """A 400 with an error body of another shape than SuperOffice's."""
    return web.Response(status=400, body=b'{"message": "bad request"}', content_type="application/json")


async def no_challenge(request: web.Request) -> web.Response:
    """A 401 in SuperOffice's shape, but without WWW-Authenticate."""
    return web.Response(status=401, body=json.dumps(SO_ERROR).encode(), content_type="application/json")


async def wrong_namespace(request: web.Request) -> web.Response:
    """The id in XML, in another namespace than the DataContract one."""
    return web.Response(body=b'<int xmlns="http://example.com/ids">33</int>', content_type="application/xml")


async def html_error(request: web.Request) -> web.Response:
    """A 500 error page in HTML, as a gateway or IIS might send."""
    return web.Response(status=500, text="<html><body>Server Error</body></html>", content_type="text/html")


async def accepts_anything(request: web.Request) -> web.Response:
    """Every request saved with id 33, whatever the contract says of it."""
    return web.Response(body=b"33", content_type="application/json")


async def echo(request: web.Request) -> web.Response:
    """What arrived, as JSON: method, path and query as sent, headers in order, the body's size."""
    body = await request.read()
    seen = {
        "method": request.method,
        "raw_path": request.raw_path,
        "headers": [[k, v] for k, v in request.headers.items()],
        "size": len(body),
        "body": body.decode("latin-1"),
        "chunked": request.headers.get("Transfer-Encoding") == "chunked",
    }
    return web.Response(body=b"33", content_type="application/json", headers={"X-Echo": json.dumps(seen)})


async def gzipped(request: web.Request) -> web.Response:
    """The id gzip-compressed, whatever Accept-Encoding said."""
    return web.Response(
        body=gzip.compress(b"33"), content_type="application/json", headers={"Content-Encoding": "gzip"}
    )


async def set_cookie(request: web.Request) -> web.Response:
    """Like `echo`, and sets a session cookie a proxy must not send back on later calls."""
    response = await echo(request)
    response.headers["Set-Cookie"] = "ASP.NET_SessionId=abc123; path=/; HttpOnly"
    return response


async def echo_secret(request: web.Request) -> web.Response:
    """A 401 in plain text that repeats the credentials it was sent, in the body and the challenge."""
    credentials = request.headers.get("Authorization", "").partition(" ")[2]
    return web.Response(
        status=401,
        text=f"{credentials} is not valid here",
        headers={"WWW-Authenticate": f'Basic realm="{credentials}"'},
    )


async def echo_encoded(request: web.Request) -> web.Response:
    """A 401 whose headers repeat the credentials and the query's ticket base64-encoded, lowercased and URL-encoded."""
    credentials = request.headers.get("Authorization", "").partition(" ")[2]
    ticket = request.query.get("ticket", "")
    app_token = request.headers.get("SO-AppToken", "")
    encoded = base64.b64encode(credentials.encode()).decode()
    return web.Response(
        status=401,
        text="no",
        headers={
            "WWW-Authenticate": f'Basic realm="{encoded}", error="{credentials.lower()}"',
            "Location": f"/login?t={quote(ticket, safe='')}&a={base64.urlsafe_b64encode(app_token.encode()).decode()}",
            "Retry-After": ticket.upper(),
        },
    )


TENANTS: dict[str, Callable[[web.Request], Awaitable[web.Response]]] = {
    "redirect": redirect,
    "string_id": string_id,
    "other_error": other_error,
    "no_challenge": no_challenge,
    "wrong_namespace": wrong_namespace,
    "html_error": html_error,
    "accepts_anything": accepts_anything,
    "echo": echo,
    "gzipped": gzipped,
    "set_cookie": set_cookie,
    "echo_secret": echo_secret,
    "echo_encoded": echo_encoded,
}


async def dispatch(request: web.Request) -> web.Response:
    tenant = request.path.strip("/").partition("/")[0]
    return await TENANTS[tenant](request)


def wrong_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@contextmanager
def wrong_server_in_thread() -> Iterator[str]:
    """Serve `wrong_app` from a thread of its own (for tests that run the command line); yield its URL."""
    loop = asyncio.new_event_loop()
    runner, url = loop.run_until_complete(start_app(wrong_app()))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(runner.cleanup())
        loop.close()
