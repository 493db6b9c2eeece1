"""The system user request's rules: reading the body and checking the signed system user token.

SuperOffice's ``POST /Login/api/PartnerSystemUser/Authenticate`` takes
``{"SignedSystemToken", "ApplicationToken", "ContextIdentifier", "ReturnTokenType": "JWT"}``.
The signed token is ``<system user token>.<UTC yyyyMMddHHmm>.<base64 signature>``, the signature
being RSA-SHA256 (PKCS#1 v1.5) of the first two parts joined by the dot, with the application's
private key. Each problem is a `LoginProblem` whose message names it and never repeats a secret.
"""

from __future__ import annotations

import binascii
import json
import re
from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256

from mockserver.core.vocabulary.errors import preview

FIELDS = ("SignedSystemToken", "ApplicationToken", "ContextIdentifier", "ReturnTokenType")
STAMP = re.compile(r"[0-9]{12}")
# A tenant name, as tenants.TENANT_NAME has it (the core's wings keep online below tenants;
# tests/core/test_online_login.py checks the two agree).
CONTEXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
STAMP_FORMAT = "%Y%m%d%H%M"


class LoginProblem(Exception):
    """Why a login was refused: `location` names the field, `message` says what was wrong."""

    def __init__(self, location: str, expected: str, got: str, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.expected = expected
        self.got = got
        self.message = message


@dataclass(frozen=True, slots=True)
class SystemUserRequest:
    signed_token: str
    application_token: str
    context: str


@dataclass(frozen=True, slots=True)
class SignedToken:
    system_user_token: str
    stamp: datetime
    signature: bytes
    signed_text: str


def read_request(body: bytes) -> SystemUserRequest:
    """The body's four fields, or a `LoginProblem` naming the first one missing or wrong."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise LoginProblem(
            "body", "a JSON object", "a body that is not JSON", "The request body is not JSON."
        ) from None
    if not isinstance(data, Mapping):
        raise LoginProblem(
            "body", "a JSON object", f"a JSON {type(data).__name__}", "The request body is not a JSON object."
        )
    for name in FIELDS:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            got = "nothing" if value is None else f"a {type(value).__name__}" if not isinstance(value, str) else "''"
            raise LoginProblem(f"body.{name}", "a non-empty string", got, f"{name} is missing or empty.")
    if data["ReturnTokenType"].strip().lower() != "jwt":
        raise LoginProblem(
            "body.ReturnTokenType",
            "JWT",
            preview(data["ReturnTokenType"], 20),
            f"ReturnTokenType {preview(data['ReturnTokenType'], 20)} is not served by this fake; ask for JWT.",
        )
    context = data["ContextIdentifier"].strip()
    if not CONTEXT_NAME.fullmatch(context):
        raise LoginProblem(
            "body.ContextIdentifier",
            "a tenant name such as Cust12345",
            preview(context, 40),
            f"ContextIdentifier {preview(context, 40)} is not a tenant name such as Cust12345.",
        )
    return SystemUserRequest(data["SignedSystemToken"].strip(), data["ApplicationToken"].strip(), context)


def parse_signed_token(text: str) -> SignedToken:
    """Split ``<token>.<yyyyMMddHHmm>.<base64 signature>``; a `LoginProblem` says which part is wrong."""
    where, expected = "body.SignedSystemToken", "<system user token>.<UTC yyyyMMddHHmm>.<base64 signature>"
    parts = text.rsplit(".", 2)
    if len(parts) != 3 or not parts[0]:
        raise LoginProblem(
            where, expected, f"{len(parts)} dot-separated part(s)",
            "SignedSystemToken is malformed: it must be three parts, <system user token>.<timestamp>.<signature>.",
        )  # fmt: skip
    token, stamp_text, signature_text = parts
    if not STAMP.fullmatch(stamp_text):
        raise LoginProblem(
            where, expected, "a timestamp that is not 12 digits",
            "SignedSystemToken is malformed: its timestamp must be UTC yyyyMMddHHmm (12 digits).",
        )  # fmt: skip
    try:
        stamp = datetime.strptime(stamp_text, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise LoginProblem(
            where, expected, f"the timestamp {stamp_text}",
            f"SignedSystemToken is malformed: {stamp_text} is not a date and time (yyyyMMddHHmm).",
        ) from None  # fmt: skip
    try:
        signature = b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if not signature:
        raise LoginProblem(
            where, expected, "a signature that is not base64",
            "SignedSystemToken is malformed: its signature is not base64.",
        )  # fmt: skip
    return SignedToken(token, stamp, signature, f"{token}.{stamp_text}")


def check_stamp(signed: SignedToken, now: float, window_s: int) -> None:
    """Refuse a timestamp more than `window_s` seconds from the fake's clock, either way."""
    age = now - signed.stamp.timestamp()
    if abs(age) > window_s:
        when = signed.stamp.strftime("%Y-%m-%dT%H:%MZ")
        clock = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        side = "old" if age > 0 else "far in the future"
        raise LoginProblem(
            "body.SignedSystemToken",
            f"a timestamp within {window_s} seconds of the server's clock",
            f"the timestamp {when}",
            f"SignedSystemToken is stale: its timestamp {when} is {side} (server clock {clock}, "
            f"window {window_s} seconds). Sign a fresh token with the current UTC time.",
        )


def check_signature(signed: SignedToken, key: RSAPublicKey, app_name: str) -> None:
    """Verify the RSA-SHA256 PKCS#1 v1.5 signature with the application's public key."""
    try:
        key.verify(signed.signature, signed.signed_text.encode("utf-8"), PKCS1v15(), SHA256())
    except InvalidSignature:
        raise LoginProblem(
            "body.SignedSystemToken",
            f"a signature by the private key of {app_name}",
            "a signature that does not verify",
            f"SignedSystemToken has a bad signature: it does not verify with the public key of {app_name}. "
            "Sign '<system user token>.<timestamp>' with RSA-SHA256 (PKCS#1 v1.5) and that application's private key.",
        ) from None


__all__ = [
    "LoginProblem",
    "SignedToken",
    "SystemUserRequest",
    "check_signature",
    "check_stamp",
    "parse_signed_token",
    "read_request",
]
