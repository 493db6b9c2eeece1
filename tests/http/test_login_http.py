"""The login endpoints and the clock and credential /_ routes over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession

from mockserver import FakeServer
from mockserver.core.online.jwt_keys import TICKET_CLAIM, WEBAPI_URL_CLAIM, serial_of
from mockserver.tools.cli import build_parser, settings_and_sources

from ..online_support import APP_TOKEN, CLIENT_ID, START, applications, login_body
from ..support import SAVE_PATH, save_body

LOGIN = "/Login/api/PartnerSystemUser/Authenticate"
TOKENS = "/login/common/oauth/tokens"


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeServer, ClientSession]]:
    async with FakeServer(port=0, installation="online", applications=applications()) as fake, ClientSession() as http:
        yield fake, http


async def answer(http: ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any, Any]:
    async with http.request(method, url, **kwargs) as resp:
        data = await resp.read()
        body = json.loads(data) if data and resp.content_type == "application/json" else data
        return resp.status, body, resp.headers.copy()


async def upload(http: ClientSession, fake: FakeServer, ticket: str) -> tuple[int, Any, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"SOTicket {ticket}", "SO-AppToken": APP_TOKEN}
    return await answer(http, "POST", fake.url + "/Cust12345" + SAVE_PATH, data=save_body(), headers=headers)


async def test_a_jwt_from_the_fake_validates_against_the_jwks_it_serves(
    served: tuple[FakeServer, ClientSession],
) -> None:
    fake, http = served  # on real time, so PyJWT's own exp/iat/nbf checks hold
    status, body, headers = await answer(http, "POST", fake.url + LOGIN, data=login_body(fake))
    assert status == 200 and body["IsSuccessful"] is True, body
    assert headers["Cache-Control"] == "no-store"
    status, jwks, _ = await answer(http, "GET", fake.url + "/login/.well-known/jwks")
    assert status == 200 and jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["alg"] == "RS256"
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(body["Token"])["kid"]]
    claims = jwt.decode(
        body["Token"], key.key, algorithms=["RS256"], audience=f"spn:{serial_of('Cust12345')}", issuer="SuperOffice AS"
    )
    assert claims[WEBAPI_URL_CLAIM] == f"{fake.url}/Cust12345/api/"
    status, saved, _ = await upload(http, fake, claims[TICKET_CLAIM])
    assert status == 200 and saved == 1


async def test_an_expired_ticket_is_401_in_superoffices_shape(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    _, body, _ = await answer(
        http, "POST", fake.url + "/login/api/partnersystemuser/authenticate", data=login_body(fake)
    )
    ticket = jwt.decode(body["Token"], options={"verify_signature": False})[TICKET_CLAIM]
    status, clock, _ = await answer(http, "POST", fake.url + "/_clock", json={"advance_s": 21600})
    assert status == 200 and clock["offset_s"] > 21599
    status, error, headers = await upload(http, fake, ticket)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="SuperOffice Username or Ticket"'
    assert error["Error"] is True and error["ErrorType"] == "SoCredentialsException"
    assert error["Message"].startswith("The ticket expired at ")
    assert ticket not in json.dumps(error)
    status, events, _ = await answer(http, "GET", fake.url + "/_credentials")
    assert status == 200 and events["authenticated"] == 1 and events["expired"] == 1
    assert [e["kind"] for e in events["events"]] == ["authenticated", "expired"]
    status, verdict, _ = await answer(
        http, "POST", fake.url + "/_credentials/assert", json={"check": "reauthenticated_after_401"}
    )
    assert status == 409 and verdict["passed"] is False
    assert "never authenticated again after #2 POST /Cust12345/api/v1/Agents/BLOB/SaveImageStream" in verdict["message"]
    status, verdict, _ = await answer(
        http, "POST", fake.url + "/_credentials/assert", json={"check": "authenticated", "times": 1}
    )
    assert status == 200 and verdict == {"passed": True, "check": "authenticated"}


async def test_a_failed_login_answers_is_successful_false(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    status, body, _ = await answer(http, "POST", fake.url + LOGIN, data=b"{}")
    assert status == 200 and body == {
        "IsSuccessful": False,
        "Token": None,
        "ErrorMessage": "SignedSystemToken is missing or empty.",
    }
    status, body, headers = await answer(http, "GET", fake.url + LOGIN)
    assert status == 405 and headers["Allow"] == "POST"
    status, body, _ = await answer(http, "POST", fake.url + LOGIN, data=b"x" * 70_000)
    assert status == 200 and body["ErrorMessage"] == "The request body is not JSON."
    assert [(c.method, c.path, c.status) for c in fake.calls] == [
        ("POST", LOGIN, 200),
        ("GET", LOGIN, 405),
        ("POST", LOGIN, 200),
    ]


async def test_oauth_consent_and_refresh_over_http(served: tuple[FakeServer, ClientSession]) -> None:
    fake, http = served
    status, pair, _ = await answer(
        http, "POST", fake.url + "/_oauth/consent", json={"context": "Cust12345", "client_id": CLIENT_ID}
    )
    assert status == 200 and pair["token_type"] == "Bearer"
    await answer(http, "POST", fake.url + "/_clock", json={"advance_s": 3600})
    bearer = {"Content-Type": "application/json", "Authorization": f"Bearer {pair['access_token']}"}
    status, _, _ = await answer(http, "POST", fake.url + SAVE_PATH, data=save_body(), headers=bearer)
    assert status == 401
    query = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": APP_TOKEN,
        "refresh_token": pair["refresh_token"],
    }
    status, fresh, headers = await answer(http, "POST", fake.url + TOKENS, params=query)
    assert status == 200 and fresh["access_token"] != pair["access_token"] and headers["Cache-Control"] == "no-store"
    status, again, _ = await answer(http, "POST", fake.url + TOKENS, data=query)  # a form body works too
    assert status == 200 and again["refresh_token"] == pair["refresh_token"]
    bearer["Authorization"] = f"Bearer {fresh['access_token']}"
    status, _, _ = await answer(http, "POST", fake.url + SAVE_PATH, data=save_body(), headers=bearer)
    assert status == 200
    status, error, _ = await answer(http, "POST", fake.url + TOKENS, params={**query, "refresh_token": "never"})
    assert status == 400 and error["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("/_clock", {"advance_s": "six hours"}, "body.advance_s"),
        ("/_clock", {"set": "yesterday"}, "body.set"),
        ("/_clock", "not an object", "body"),
        ("/_oauth/consent", {"context": "Cust1"}, "body.client_id"),
        ("/_oauth/consent", {"context": "Cust1", "client_id": "unknown"}, "body"),
        ("/_credentials/assert", {"check": "vibes"}, "body.check"),
        ("/_credentials/assert", {"check": "authenticated", "times": -1}, "body.times"),
    ],
)
async def test_bad_input_to_the_routes_is_a_400_naming_it(
    served: tuple[FakeServer, ClientSession], path: str, body: Any, location: str
) -> None:
    fake, http = served
    status, error, _ = await answer(http, "POST", fake.url + path, json=body)
    assert status == 400 and error["Violations"][0]["location"] == location, error
    status, error, _ = await answer(http, "POST", fake.url + path, data=b"{not json")
    assert status == 400 and error["Violations"][0]["location"] == "body"


async def test_the_clock_route_reads_sets_and_freezes() -> None:
    async with FakeServer(port=0) as fake, ClientSession() as http:
        status, clock, _ = await answer(http, "GET", fake.url + "/_clock")
        assert status == 200 and clock["frozen"] is False
        status, clock, _ = await answer(http, "POST", fake.url + "/_clock", json={"set": START, "frozen": True})
        assert clock["now"] == "2026-12-07T10:00:00Z" and clock["frozen"] is True
        assert fake.clock.utcnow().isoformat() == "2026-12-07T10:00:00+00:00"


async def test_the_clock_route_is_guarded_like_the_others() -> None:
    async with FakeServer(port=0, admin_token="s3cret") as fake, ClientSession() as http:
        status, _, _ = await answer(http, "POST", fake.url + "/_clock", json={"advance_s": 60})
        assert status == 401
        assert fake.clock.to_json()["offset_s"] < 59
        status, _, _ = await answer(
            http,
            "POST",
            fake.url + "/_clock",
            json={"advance_s": 60},
            headers={"Authorization": "Bearer s3cret", "Origin": "https://evil.example"},
        )
        assert status == 403
        status, _, _ = await answer(
            http, "POST", fake.url + "/_clock", json={"advance_s": 60}, headers={"Authorization": "Bearer s3cret"}
        )
        assert status == 200


async def test_with_isolated_tenants_the_login_paths_are_not_a_tenant() -> None:
    async with FakeServer(port=0, tenants="isolated", applications=applications()) as fake, ClientSession() as http:
        status, body, _ = await answer(http, "POST", fake.url + LOGIN, data=login_body(fake))
        assert status == 200 and body["IsSuccessful"] is True
        assert fake.tenants is not None and len(fake.tenants) == 0  # /Login is not a tenant prefix
        status, _, _ = await answer(http, "POST", fake.url + "/Cust7/_clock", json={"advance_s": 60})
        assert status == 200 and fake.clock.to_json()["offset_s"] >= 59


async def test_a_consent_from_python_names_the_served_url(served: tuple[FakeServer, ClientSession]) -> None:
    fake, _http = served
    pair = fake.oauth_consent("Cust12345", CLIENT_ID)
    claims = jwt.decode(pair["id_token"], options={"verify_signature": False})
    assert claims[WEBAPI_URL_CLAIM] == f"{fake.url}/Cust12345/api/"


def test_the_settings_from_the_command_line_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--applications",
            "apps.toml",
            "--clock",
            "frozen",
            "--ticket-life-s",
            "60",
            "--expired-token-status",
            "403",
        ]
    )
    settings = settings_and_sources(args)[0]
    assert (settings.applications, settings.clock, settings.ticket_life_s) == (Path("apps.toml"), "frozen", 60)
    assert settings.expired_token_status == 403 and settings.public()["applications"] == "set"
    monkeypatch.setenv("MOCKSERVER_ISSUED_ONLY", "true")
    monkeypatch.setenv("MOCKSERVER_CLOCK", "2026-12-07T10:00:00Z")
    settings = settings_and_sources(build_parser().parse_args(["serve"]))[0]
    assert settings.issued_only is True and settings.clock == "2026-12-07T10:00:00Z"
    monkeypatch.setenv("MOCKSERVER_CLOCK", "")
    assert settings_and_sources(build_parser().parse_args(["serve"]))[0].clock is None
