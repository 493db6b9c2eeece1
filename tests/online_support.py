"""Builders for the credential tests: a partner application's key pair, signed system user tokens, logins."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockserver.core.exchange import RawRequest
from mockserver.core.fake import Fake

from .support import save_body

SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
APP_TOKEN = "partner-app-secret-token"
CLIENT_ID = "partner-client-id"
SYSTEM_USER_TOKEN = "My App-4f1d8a9c"
START = "2026-12-07T10:00:00Z"


@cache
def key_pair() -> tuple[rsa.RSAPrivateKey, str]:
    """A 2048-bit test key (made once per run) and its public half as PEM."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, pem.decode("ascii")


def private_pem() -> str:
    private, _ = key_pair()
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def applications(*, with_key: bool = True) -> dict[str, Any]:
    app: dict[str, Any] = {"name": "My App", "application_token": APP_TOKEN, "client_id": CLIENT_ID}
    if with_key:
        app["public_key"] = key_pair()[1]
    return {"application": [app]}


def sign(when: datetime, token: str = SYSTEM_USER_TOKEN, key: rsa.RSAPrivateKey | None = None) -> str:
    """``<token>.<yyyyMMddHHmm>.<base64 RSA-SHA256 signature>`` as a partner application signs it."""
    text = f"{token}.{when.astimezone(UTC).strftime('%Y%m%d%H%M')}"
    signature = (key or key_pair()[0]).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{text}.{base64.b64encode(signature).decode('ascii')}"


def login_body(
    fake: Fake, *, signed: str | None = None, app_token: str = APP_TOKEN, context: str = "Cust12345"
) -> bytes:
    signed = sign(fake.clock.utcnow()) if signed is None else signed
    return json.dumps(
        {
            "SignedSystemToken": signed,
            "ApplicationToken": app_token,
            "ContextIdentifier": context,
            "ReturnTokenType": "JWT",
        }
    ).encode()


def online_fake(**settings: Any) -> Fake:
    """A fake in Online mode with the test application, its clock frozen at START."""
    values: dict[str, Any] = {"installation": "online", "applications": applications(), "clock": START}
    values.update(settings)
    return Fake(**values)


def call(fake: Fake, credential: str, *, app_token: str | None = APP_TOKEN, scheme: str = "SOTicket") -> int:
    headers = {"Content-Type": "application/json", "Authorization": f"{scheme} {credential}"}
    if app_token is not None:
        headers["SO-AppToken"] = app_token
    return fake.process(RawRequest.build("POST", SAVE_PATH, headers=headers, body=save_body())).status
