"""Authentication over real HTTP: each scheme per installation type, 401 answers, stores, no leaks."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from mockserver import FakeServer, ThreadedFakeServer
from mockserver.core.headers.auth import REALM, fingerprint

from ..support import SAVE_PATH, save_body

TICKET = "7T:dGplMA=="
TOKEN = "8A:Cust12345.AXRrCITpPBvQX3UbIohb"
APP = "partner-app-secret"
BASIC = "Basic dGplMDpUamUw"


def headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **{k.replace("_", "-"): v for k, v in extra.items()}}


async def post(fake: FakeServer, hdrs: dict[str, str] | list[tuple[str, str]]) -> tuple[int, Any, Any]:
    async with ClientSession() as http, http.post(fake.url + SAVE_PATH, data=save_body(), headers=hdrs) as resp:
        text = await resp.text()
        return resp.status, resp.headers.copy(), json.loads(text) if text else None


CASES = [
    # installation, headers, status, scheme, credential
    ("onsite", headers(Authorization=BASIC), 200, "Basic", "password"),
    ("onsite", headers(Authorization=f"Basic {TICKET}"), 200, "Basic", "ticket"),
    ("onsite", headers(Authorization=f"SOTicket {TICKET}"), 200, "SOTicket", "ticket"),
    ("onsite", headers(Authorization=f"Bearer {TOKEN}"), 200, "Bearer", "token"),
    ("online", headers(Authorization=BASIC), 401, None, None),
    ("online", headers(Authorization=f"Basic {TICKET}"), 401, None, None),
    ("online", headers(Authorization=f"SOTicket {TICKET}"), 401, None, None),
    ("online", headers(Authorization=f"SoTicket {TICKET}", SO_AppToken=APP), 200, "SOTicket", "ticket"),
    ("online", headers(Authorization=f"bearer {TOKEN}"), 200, "Bearer", "token"),
]


@pytest.mark.parametrize(("installation", "hdrs", "status", "scheme", "credential"), CASES)
async def test_each_scheme_in_each_installation_over_http(
    installation: str, hdrs: dict[str, str], status: int, scheme: str | None, credential: str | None
) -> None:
    async with FakeServer(port=0, installation=installation) as fake:
        got_status, resp_headers, body = await post(fake, hdrs)
    assert got_status == status
    record = fake.calls.last
    if status == 200:
        assert body == 1
        assert (record.auth.scheme, record.auth.credential) == (scheme, credential)
        assert "WWW-Authenticate" not in resp_headers
    else:
        assert resp_headers["WWW-Authenticate"] == REALM
        assert body["Error"] is True and body["ErrorType"] == "SoCredentialsException"
        assert record.auth.scheme is None and record.blob_id is None
    assert record.header("Authorization").endswith(" <redacted>")


async def test_no_credentials_is_a_401_with_the_xsrf_message_and_is_journaled() -> None:
    async with FakeServer(port=0) as fake:
        status, resp_headers, body = await post(fake, headers())
    assert status == 401
    assert resp_headers["WWW-Authenticate"] == REALM
    assert resp_headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["Message"].startswith("X-XSRF-TOKEN HTTP header missing.")
    assert body["ErrorSource"] == "SuperOffice.Services.WebApi"
    assert body["Violations"][0]["location"] == "header.Authorization"
    assert fake.calls.last.status == 401 and fake.calls.last.outcome == "rejected"
    assert fake.next_id == 1  # a rejected call uses no id


async def test_xsrf_path_over_http() -> None:
    async with FakeServer(port=0, installation="online") as fake:
        ok, _, body = await post(fake, headers(X_XSRF_TOKEN="tok", Cookie="XSRF-TOKEN=tok"))
        bad, resp_headers, err = await post(fake, headers(X_XSRF_TOKEN="tok", Cookie="XSRF-TOKEN=other"))
    assert (ok, body) == (200, 1)
    assert fake.calls[0].auth.scheme == "XSRF"
    assert fake.calls[0].header("Cookie") == "XSRF-TOKEN=<redacted>"
    assert bad == 401 and resp_headers["WWW-Authenticate"] == REALM
    assert err["Message"].startswith("X-XSRF-TOKEN HTTP header does not match the XSRF-TOKEN cookie")


async def test_401_in_xml_when_the_client_asks_for_xml() -> None:
    async with (
        FakeServer(port=0) as fake,
        ClientSession() as http,
        http.post(
            fake.url + SAVE_PATH,
            data=save_body(),
            headers={"Content-Type": "application/json", "Accept": "application/xml", "Authorization": "Basic ???"},
        ) as resp,
    ):
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"] == REALM
        assert resp.headers["Content-Type"].startswith("application/xml")
        assert "not valid base64" in await resp.text()


async def test_two_authorization_headers_over_http_are_a_400() -> None:
    async with FakeServer(port=0) as fake:
        status, _, body = await post(
            fake, [("Content-Type", "application/json"), ("Authorization", BASIC)] * 1 + [("Authorization", BASIC)]
        )
    assert status == 400
    assert body["Violations"][0]["got"] == "2 Authorization headers"


async def test_credential_file_over_http(tmp_path: Path) -> None:
    path = tmp_path / "creds.toml"
    path.write_text(
        f'[users]\ntje0 = "Tje0"\n\n[tokens]\n"{TOKEN}" = "tje0"\n"8A:Cust12345.old" = {{ expired = true }}\n'
    )
    async with FakeServer(port=0, credentials=path) as fake:
        assert (await post(fake, headers(Authorization=BASIC)))[0] == 200
        wrong = base64.b64encode(b"tje0:wrong").decode()
        status, resp_headers, body = await post(fake, headers(Authorization=f"Basic {wrong}"))
        assert status == 401 and body["Message"] == "Wrong password for the user 'tje0'."
        assert resp_headers["WWW-Authenticate"] == REALM
        assert (await post(fake, headers(Authorization=f"Bearer {TOKEN}")))[0] == 200
        status, _, body = await post(fake, headers(Authorization="Bearer 8A:Cust12345.old"))
        assert status == 401 and "expired" in body["Message"]
        status, _, body = await post(fake, headers(Authorization=f"SOTicket {TICKET}"))
        assert status == 401 and body["Message"] == "The ticket is not known to this server."
    assert [c.auth.principal for c in fake.calls.accepted] == ["tje0", "tje0"]


@pytest.mark.superoffice(installation="online", credentials={"tickets": {TICKET: "tje0"}, "app_tokens": {APP: "Shop"}})
def test_marker_configures_installation_and_store(superoffice_fake: ThreadedFakeServer) -> None:
    import requests

    url = superoffice_fake.api_url
    ok = requests.post(
        url, data=save_body(), headers=headers(Authorization=f"SOTicket {TICKET}", SO_AppToken=APP), timeout=10
    )
    assert ok.status_code == 200
    assert superoffice_fake.calls.last.auth.principal == "tje0"
    assert superoffice_fake.calls.last.extra == {"app": "Shop"}
    assert superoffice_fake.calls.last.locale.app_token is True
    denied = requests.post(url, data=save_body(), headers=headers(Authorization=BASIC), timeout=10)
    assert denied.status_code == 401
    assert "not available in SuperOffice Online" in denied.json()["Message"]


SECRETS = ["Tje0secret", "7T:c2VjcmV0dGlja2V0", "8A:Cust1.secrettoken", "appsecret42", "xsrfsecret99", "sessionsecret"]


async def test_secrets_never_reach_answers_journal_debug_routes_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    store = {"users": {"tje0": "other"}, "tickets": {"7T:x": "tje0"}, "app_tokens": ["x"]}
    basic_secret = "Basic " + base64.b64encode(b"tje0:Tje0secret").decode()
    attempts: list[dict[str, str]] = [
        headers(Authorization=basic_secret),
        headers(Authorization="Basic " + base64.b64encode(b"Tje0secret").decode()),  # no colon
        headers(Authorization="Tje0secret"),
        headers(Authorization="Tje0secret morestuff"),
        headers(Authorization=f"SOTicket {SECRETS[1]}", SO_AppToken=SECRETS[3]),
        headers(Authorization=f"Bearer {SECRETS[2]}"),
        headers(Authorization=f"Basic {SECRETS[1]}"),
        headers(X_XSRF_TOKEN=SECRETS[4], Cookie=f"XSRF-TOKEN=nope; session={SECRETS[5]}"),
        headers(X_XSRF_TOKEN=SECRETS[4], Cookie=f"XSRF-TOKEN={SECRETS[4]}"),
    ]
    seen: list[str] = []
    caplog.set_level(logging.INFO, logger="mockserver")
    for installation in ("onsite", "online"):
        for credentials in (None, store):
            async with (
                FakeServer(port=0, installation=installation, credentials=credentials, log_calls=True) as fake,
                ClientSession() as http,
            ):
                for hdrs in attempts:
                    async with http.post(fake.url + SAVE_PATH, data=save_body(), headers=hdrs) as resp:
                        seen.append(await resp.text())
                        seen.append(json.dumps(dict(resp.headers)))
                async with http.get(fake.url + "/_calls") as resp:
                    seen.append(await resp.text())
                async with http.get(fake.url + "/_calls", headers={"Accept": "text/html"}) as resp:
                    seen.append(await resp.text())
            seen.extend(json.dumps(r.to_json()) for r in fake.calls)
            seen.extend(repr(r) for r in fake.calls)
    seen.append(caplog.text)
    everything = "\n".join(seen)
    assert "rejected" in everything or "401" in everything  # the material under inspection is real
    for secret in SECRETS:
        assert secret not in everything, secret
    assert base64.b64encode(b"tje0:Tje0secret").decode() not in everything
    assert fingerprint("ticket", SECRETS[1]) in everything  # principals are fingerprints instead
