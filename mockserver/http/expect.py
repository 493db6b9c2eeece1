"""``POST /_assert``: an assertion of the Python API asked over HTTP, answered with its own message.

The body names one assertion method and its keywords (core/expectations.py reads it); the
method itself runs on the fake, so a failure's ``message`` is the very text the Python
`AssertionError` carries, with the calls it names as ``near_misses``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..core.assertions import ExpectationFailed
from ..core.fake import Fake
from ..core.vocabulary.errors import ApiError, Violation, preview
from ..core.vocabulary.records import CallRecord
from .expectations import Expectation, parse_expectation
from .responses import fake_of, json_response, record_json, root_of
from .waiting import wait_until

FAILED = 409  # the request was fine; the journal does not hold what it expects


async def _read(request: web.Request) -> Any:
    limit = root_of(request).settings.max_body_size  # the app reads no more (client_max_size)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        got = f"{request.content_length} bytes" if request.content_length is not None else "more"
        raise ApiError(413, [Violation("body", f"at most {limit} bytes (max_body_size)", got)]) from None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        got = f"{preview(raw.decode('utf-8', 'replace'), 30)!r} ({err})" if raw else "an empty body"
        raise ApiError(
            400, [Violation("body", 'a JSON object, e.g. {"assert_saved": {"type": "PersonImage"}}', got)]
        ) from None


async def assert_route(request: web.Request) -> web.Response:
    fake = fake_of(request)
    expectation = parse_expectation(await _read(request))
    found: list[CallRecord] = []
    failure: list[ExpectationFailed] = []

    def holds() -> bool:
        try:
            found[:] = expectation.check(fake.expect)
        except ExpectationFailed as err:
            failure[:] = [err]
            return False
        failure.clear()
        return True

    passed = await wait_until(request, [fake.state.journal], holds, expectation.wait, "body.wait")
    return json_response(_answer(expectation, passed, found, failure, root_of(request)), 200 if passed else FAILED)


def _answer(
    expectation: Expectation, passed: bool, found: list[CallRecord], failure: list[ExpectationFailed], root: Fake
) -> dict[str, Any]:
    base: dict[str, Any] = {"passed": passed, "assertion": expectation.name, "wait": expectation.wait}
    if passed:
        return {**base, "calls": [record_json(r, root) for r in found]}
    err = failure[0]
    return {
        **base,
        "timed_out": expectation.wait > 0,
        "message": err.message,
        "near_misses": [m.to_json() for m in err.near_misses],
    }


EXPECT_ROUTES: dict[str, dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = {
    "/_assert": {"POST": assert_route}
}
