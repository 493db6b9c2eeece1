"""SuperOffice Online's login endpoints on the fake's own listener, and the /_ routes of its clock and credentials.

- ``POST /Login/api/PartnerSystemUser/Authenticate``: the system user flow (a JWT holding a ticket);
- ``POST /login/common/oauth/tokens``: ``grant_type=refresh_token``;
- ``GET /login/.well-known/jwks``: the public key the JWTs are signed with;
- ``GET|POST /_clock``, ``POST /_oauth/consent``, ``GET /_credentials`` and
  ``POST /_credentials/assert`` (guarded like every /_ route: see debug.py and guard.py).

Every login call is journaled by the core (core/online/login.py) with secrets as fingerprints.
In SuperOffice these paths belong to the authentication host (``online.superoffice.com``);
this fake serves them beside the API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..core.online.clock_control import apply_clock_body
from ..core.online.credential_checks import (
    CHECKS,
    check_authenticated,
    check_no_expired_reuse,
    check_reauthenticated_after_401,
)
from ..core.online.login import JWKS_PATH, OAUTH_TOKENS_PATH, SYSTEM_USER_PATH, LoginAnswer
from ..core.vocabulary.errors import ApiError, ConfigError, Violation, preview
from .responses import error_response, fake_of, json_response, root_of

log = logging.getLogger("mockserver")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A login body is a few hundred bytes; more is not a login.
MAX_LOGIN_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _not_allowed(request: web.Request, allow: str) -> web.Response:
    """A 405 in SuperOffice's shape, journaled as every call to the login service is."""
    err = ApiError(
        405,
        [Violation("method", allow, request.method)],
        headers={"Allow": allow},
        message=f"The method {request.method} is not allowed for {request.path}; use {allow}.",
    )
    fake = root_of(request)
    violations = tuple(err.violations)
    fake.login.journal_call(fake.state.journal, request.method, request.path, request.headers, 405, {}, violations, {})
    return error_response(err)


async def _body(request: web.Request) -> bytes | None:
    """The request body, or None when it is longer than a login body can be."""
    if request.content_length is not None and request.content_length > MAX_LOGIN_BODY:
        return None
    data = await request.content.read(MAX_LOGIN_BODY + 1)
    return None if len(data) > MAX_LOGIN_BODY else data


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _answer(request: web.Request, answer: LoginAnswer) -> web.Response:
    if root_of(request).settings.log_calls:
        r = answer.record
        detail = r.violations[0].got if r.violations else "ok"
        log.info("#%d %s %s -> %d %s", r.seq, r.method, r.path, r.status, detail)
    return json_response(answer.body, answer.status, NO_STORE)


async def system_user(request: web.Request) -> web.StreamResponse:
    if request.method != "POST":
        return _not_allowed(request, "POST")
    fake = root_of(request)
    body = await _body(request)
    if body is None:
        body = b"too large"  # answered as a body that is not JSON, and journaled
    answer = fake.login.system_user(body, request.headers, request.path, _base_url(request), fake.state.journal)
    return _answer(request, answer)


async def oauth_tokens(request: web.Request) -> web.StreamResponse:
    if request.method != "POST":
        return _not_allowed(request, "POST")
    fake = root_of(request)
    params = dict(parse_qsl(request.query_string, keep_blank_values=True))
    body = await _body(request) or b""
    if request.content_type == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    answer = fake.login.oauth_tokens(params, request.headers, request.path, _base_url(request), fake.state.journal)
    return _answer(request, answer)


async def jwks(request: web.Request) -> web.StreamResponse:
    if request.method not in ("GET", "HEAD"):
        return _not_allowed(request, "GET")
    return json_response(root_of(request).login.key.jwks())


def add_login_routes(app: web.Application) -> None:
    """The login endpoints, under the spellings SuperOffice's docs use and all lower case (IIS ignores case)."""
    for path, handler in ((SYSTEM_USER_PATH, system_user), (OAUTH_TOKENS_PATH, oauth_tokens), (JWKS_PATH, jwks)):
        for spelling in dict.fromkeys((path, path.lower())):
            app.router.add_route("*", spelling, handler)


# ---- the /_ routes ----------------------------------------------------------------------------


async def _json_body(request: web.Request) -> Any:
    body = await _body(request)
    if body is None:
        raise ApiError(400, [Violation("body", f"at most {MAX_LOGIN_BODY} bytes of JSON", "more")])
    if not body.strip():
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(
            400,
            [Violation("body", "a JSON object", "text that is not JSON")],
            message=f"{request.path} takes a JSON object.",
        ) from None


async def clock_get(request: web.Request) -> web.Response:
    return json_response(fake_of(request).clock.to_json())


async def clock_post(request: web.Request) -> web.Response:
    clock = fake_of(request).clock
    apply_clock_body(clock, await _json_body(request))
    return json_response(clock.to_json())


def _text(body: Mapping[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(
            400,
            [Violation(f"body.{name}", "a non-empty string", "nothing" if value is None else preview(repr(value), 30))],
            message=f"POST /_oauth/consent needs {name}.",
        )
    return value.strip()


async def oauth_consent(request: web.Request) -> web.Response:
    """A first token pair for ``{"context": "Cust12345", "client_id": …, "client_secret": …}``."""
    body = await _json_body(request)
    if not isinstance(body, Mapping):
        raise ApiError(
            400, [Violation("body", "a JSON object with context and client_id", f"a JSON {type(body).__name__}")]
        )
    context, client_id = _text(body, "context"), _text(body, "client_id")
    assert context is not None and client_id is not None
    fake = fake_of(request)
    try:
        pair = fake.login.consent(context, client_id, _text(body, "client_secret", required=False), _base_url(request))
    except ConfigError as exc:
        raise ApiError(
            400, [Violation("body", "a context and a client this fake can consent for", str(exc))], message=str(exc)
        ) from None
    return json_response(pair, headers=NO_STORE)


async def credentials(request: web.Request) -> web.Response:
    """The credential events (logins and calls with issued credentials), oldest first; never a secret."""
    events = fake_of(request).login.book.events()
    return json_response(
        {
            "authenticated": sum(e.kind == "authenticated" for e in events),
            "expired": sum(e.kind == "expired" for e in events),
            "events": [e.to_json() for e in events],
        }
    )


async def credentials_assert(request: web.Request) -> web.Response:
    """``{"check": "authenticated", "times": 2}``, ``{"check": "reauthenticated_after_401"}`` or
    ``{"check": "no_expired_reuse"}``: 200 ``{"passed": true}``, or 409 with the failure message."""
    body = await _json_body(request)
    check = body.get("check") if isinstance(body, Mapping) else None
    if check not in CHECKS:
        raise ApiError(400, [Violation("body.check", f"one of {', '.join(CHECKS)}", preview(repr(check), 40))])
    assert isinstance(body, Mapping)
    times = body.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
        raise ApiError(400, [Violation("body.times", "a whole number, 0 or more", preview(repr(times), 20))])
    events = fake_of(request).login.book.events()
    try:
        if check == "authenticated":
            check_authenticated(events, times)
        elif check == "reauthenticated_after_401":
            check_reauthenticated_after_401(events)
        else:
            check_no_expired_reuse(events)
    except AssertionError as failure:
        return json_response({"passed": False, "check": check, "message": str(failure)}, 409)
    return json_response({"passed": True, "check": check})


CREDENTIAL_ROUTES: dict[str, dict[str, Handler]] = {
    "/_clock": {"GET": clock_get, "POST": clock_post},
    "/_oauth/consent": {"POST": oauth_consent},
    "/_credentials": {"GET": credentials},
    "/_credentials/assert": {"POST": credentials_assert},
}

__all__ = ["CREDENTIAL_ROUTES", "add_login_routes"]
