"""How to choose the installation type and the accepted credentials."""

import base64
from pathlib import Path

import pytest
import requests

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
BODY = {"Type": "PersonImage", "Image": base64.b64encode(PNG).decode(), "Description": "avatar"}
CREDENTIALS = Path(__file__).with_name("credentials.toml")


def test_onsite_accepts_any_well_formed_credential(superoffice_fake):
    url = superoffice_fake.api_url
    assert requests.post(url, json=BODY, auth=("anyone", "any password"), timeout=10).status_code == 200
    assert requests.post(url, json=BODY, headers={"Authorization": "SOTicket 7T:abc"}, timeout=10).ok

    assert superoffice_fake.calls[0].auth.principal == "anyone"
    assert superoffice_fake.calls[0].header("Authorization") == "Basic <redacted>"

    missing = requests.post(url, json=BODY, timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Basic realm="SuperOffice Username or Ticket"'
    assert missing.json()["Message"].startswith("X-XSRF-TOKEN HTTP header missing.")


@pytest.mark.superoffice(installation="online", credentials=CREDENTIALS)
def test_online_with_a_credential_store(superoffice_fake):
    url = superoffice_fake.api_url
    ticket = {"Authorization": "SOTicket 7T:dGplMA==", "SO-AppToken": "my-partner-app-secret"}
    assert requests.post(url, json=BODY, headers=ticket, timeout=10).json() == 1
    assert superoffice_fake.calls.last.auth.principal == "tje0"  # the ticket's owner

    basic = requests.post(url, json=BODY, auth=("tje0", "Tje0"), timeout=10)
    assert basic.status_code == 401
    assert "Basic authentication is not available in SuperOffice Online" in basic.json()["Message"]

    old = {"Authorization": "Bearer 8A:Cust12345.yesterday"}
    assert "expired" in requests.post(url, json=BODY, headers=old, timeout=10).json()["Message"]


@pytest.mark.superoffice(credentials={"users": {"tje0": "Tje0"}})
def test_a_store_from_python(superoffice_fake):
    wrong = requests.post(superoffice_fake.api_url, json=BODY, auth=("tje0", "nope"), timeout=10)
    assert wrong.json()["Message"] == "Wrong password for the user 'tje0'."


def test_language_timezone_and_select_are_recorded(superoffice_fake):
    headers = {
        "Accept-Language": "sv;q=0.5, nb",
        "SO-Culture": "en-US",
        "SO-TimeZone": "NO,includeTZOffset",
    }
    url = superoffice_fake.api_url + "?$select=name,category/id"
    requests.post(url, json=BODY, headers=headers, auth=("tje0", "Tje0"), timeout=10).raise_for_status()

    call = superoffice_fake.calls.last
    assert (call.locale.language, call.locale.culture, call.locale.timezone) == ("nb", "en-US", "NO")
    assert call.locale.include_tz_offset
    assert call.select == ("name", "category/id")
