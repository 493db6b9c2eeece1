"""How to test a client against credentials that expire: the system user flow and OAuth refresh, on the fake's clock."""

import base64
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
BODY = {"Type": "PersonImage", "Image": PNG, "Description": "avatar"}

# The partner application's key pair: the private half signs, the fake holds the public half.
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    PRIVATE_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
APP_TOKEN = "my-application-token"
APPLICATIONS = {"application": [{"name": "My App", "application_token": APP_TOKEN, "public_key": PUBLIC_PEM}]}


def signed_system_token(system_user_token, now):
    """<system user token>.<UTC yyyyMMddHHmm>.<base64 RSA-SHA256 signature of the first two parts>."""
    text = f"{system_user_token}.{now.strftime('%Y%m%d%H%M')}"
    signature = PRIVATE_KEY.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{text}.{base64.b64encode(signature).decode()}"


def authenticate(base_url, now):
    """The client's login: a JWT whose ticket claim is the ticket for the API calls."""
    answer = requests.post(
        f"{base_url}/Login/api/PartnerSystemUser/Authenticate",
        json={
            "SignedSystemToken": signed_system_token("My App-4f1d8a9c", now),
            "ApplicationToken": APP_TOKEN,
            "ContextIdentifier": "Cust12345",
            "ReturnTokenType": "JWT",
        },
        timeout=10,
    ).json()
    assert answer["IsSuccessful"], answer["ErrorMessage"]
    keys = jwt.PyJWKClient(f"{base_url}/login/.well-known/jwks")
    claims = jwt.decode(
        answer["Token"],
        keys.get_signing_key_from_jwt(answer["Token"]).key,
        algorithms=["RS256"],
        issuer="SuperOffice AS",
        options={"verify_aud": False},
    )
    return claims["http://schemes.superoffice.net/identity/ticket"], claims[
        "http://schemes.superoffice.net/identity/webapi_url"
    ]


class Client:
    """A well-behaved integration: authenticates once, and again only when a call answers 401."""

    def __init__(self, base_url, clock):
        self.base_url, self.clock, self.ticket = base_url, clock, None

    def upload(self):
        for _attempt in range(2):
            if self.ticket is None:
                self.ticket, self.webapi_url = authenticate(self.base_url, self.clock.utcnow())
            headers = {"Authorization": f"SOTicket {self.ticket}", "SO-AppToken": APP_TOKEN}
            answer = requests.post(
                f"{self.webapi_url}v1/Agents/BLOB/SaveImageStream", json=BODY, headers=headers, timeout=10
            )
            if answer.status_code != 401:
                return answer
            self.ticket = None  # expired: authenticate again, once
        return answer


@pytest.mark.superoffice(installation="online", applications=APPLICATIONS)
def test_a_system_user_ticket_expires_after_six_hours(superoffice_fake):
    client = Client(superoffice_fake.url, superoffice_fake.clock)
    assert client.upload().json() == 1

    superoffice_fake.clock.advance(hours=6)  # nothing sleeps: the fake's clock moves
    assert client.upload().json() == 2  # 401, one new login, then the upload

    assert [c.status for c in superoffice_fake.calls] == [200, 200, 401, 200, 200]
    assert "expired" in superoffice_fake.calls[2].violations[0].message
    superoffice_fake.assert_authenticated(times=2)
    superoffice_fake.assert_reauthenticated_after_401()
    superoffice_fake.assert_no_expired_credential_reused()


@pytest.mark.superoffice(clock="2026-12-07T10:00:00Z")
def test_an_oauth_access_token_is_refreshed_after_a_401(superoffice_fake):
    pair = superoffice_fake.oauth_consent("Cust12345", client_id="my-client-id", client_secret="my-client-secret")
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    assert requests.post(superoffice_fake.api_url, json=BODY, headers=bearer, timeout=10).status_code == 200

    requests.post(f"{superoffice_fake.url}/_clock", json={"advance_s": pair["expires_in"]}, timeout=10)
    assert requests.post(superoffice_fake.api_url, json=BODY, headers=bearer, timeout=10).status_code == 401

    fresh = requests.post(
        f"{superoffice_fake.url}/login/common/oauth/tokens",
        params={
            "grant_type": "refresh_token",
            "client_id": "my-client-id",
            "client_secret": "my-client-secret",
            "refresh_token": pair["refresh_token"],
        },
        timeout=10,
    ).json()
    bearer = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert requests.post(superoffice_fake.api_url, json=BODY, headers=bearer, timeout=10).status_code == 200
    verdict = requests.post(
        f"{superoffice_fake.url}/_credentials/assert", json={"check": "reauthenticated_after_401"}, timeout=10
    )
    assert verdict.json() == {"passed": True, "check": "reauthenticated_after_401"}


@pytest.mark.superoffice(installation="online", applications=APPLICATIONS, issued_only=True)
def test_tickets_the_fake_never_issued_are_refused_when_asked(superoffice_fake):
    made_up = {"Authorization": "SOTicket 7T:made-up", "SO-AppToken": APP_TOKEN}
    answer = requests.post(superoffice_fake.api_url, json=BODY, headers=made_up, timeout=10)
    assert answer.status_code == 401
    assert (
        answer.json()["Message"] == "The ticket was not issued by this server (issued_only is on); log in to get one."
    )


def test_the_signed_token_uses_utc():
    token = signed_system_token("My App-1", datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    assert token.startswith("My App-1.202612071000.")


APPLICATIONS_FILE = Path(__file__).with_name("applications.toml")


@pytest.mark.superoffice(installation="online", applications=APPLICATIONS_FILE)
def test_an_applications_file(superoffice_fake):
    # This example's key pair is not the one in the file: the fake says so, and journals the refusal.
    answer = requests.post(
        f"{superoffice_fake.url}/Login/api/PartnerSystemUser/Authenticate",
        json={
            "SignedSystemToken": signed_system_token("My App-4f1d8a9c", superoffice_fake.clock.utcnow()),
            "ApplicationToken": "my-application-token",
            "ContextIdentifier": "Cust12345",
            "ReturnTokenType": "JWT",
        },
        timeout=10,
    ).json()
    assert answer["IsSuccessful"] is False
    assert answer["ErrorMessage"].startswith(
        "SignedSystemToken has a bad signature: it does not verify with the public key of My App."
    )
    assert superoffice_fake.calls.last.violations[0].location == "body.SignedSystemToken"
