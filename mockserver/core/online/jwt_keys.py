"""The fake's own signing key: RS256 JWTs as SuperOffice's login service issues them, and their JWKS.

The key is made the first time a token is signed (a 2048-bit RSA key takes a moment, and most
fakes never sign one) and lives as long as the fake: a restart makes a new one, as a key
rotation would. Its public half is served at ``/login/.well-known/jwks``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "SuperOffice AS"
CLAIM = "http://schemes.superoffice.net/identity/"
TICKET_CLAIM = CLAIM + "ticket"
CTX_CLAIM = CLAIM + "ctx"
WEBAPI_URL_CLAIM = CLAIM + "webapi_url"
NETSERVER_URL_CLAIM = CLAIM + "netserver_url"
SERIAL_CLAIM = CLAIM + "serial"


def serial_of(context: str) -> str:
    """The tenant's serial number in this fake: ten digits derived from its name (stable across restarts)."""
    return str(int(hashlib.sha256(context.lower().encode()).hexdigest()[:12], 16) % 10**10).zfill(10)


def identity_claims(context: str, base_url: str, ticket: str, now: float, life_s: int) -> dict[str, Any]:
    """The claims of a system user token or an id_token for tenant `context` served at `base_url`."""
    serial = serial_of(context)
    site = f"{base_url.rstrip('/')}/{context}"
    return {
        "iss": ISSUER,
        "aud": f"spn:{serial}",
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + life_s,
        TICKET_CLAIM: ticket,
        CTX_CLAIM: context,
        WEBAPI_URL_CLAIM: f"{site}/api/",
        NETSERVER_URL_CLAIM: f"{site}/Remote/Services86/",
        SERIAL_CLAIM: serial,
    }


class SigningKey:
    """An RSA key made on first use; signs RS256 JWTs and shows its public half as JWKS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None
        self._kid = ""

    def _private(self) -> tuple[rsa.RSAPrivateKey, str]:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                numbers = self._key.public_key().public_numbers()
                self._kid = hashlib.sha256(numbers.n.to_bytes(256, "big")).hexdigest()[:16]
            return self._key, self._kid

    def sign(self, claims: Mapping[str, Any]) -> str:
        key, kid = self._private()
        return jwt.encode(dict(claims), key, algorithm="RS256", headers={"kid": kid})

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [one RSA public key]}``, the shape a JWT library reads."""
        key, kid = self._private()
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}

    def __repr__(self) -> str:  # never the key
        return "SigningKey(<private>)"


__all__ = [
    "CTX_CLAIM",
    "ISSUER",
    "NETSERVER_URL_CLAIM",
    "SERIAL_CLAIM",
    "TICKET_CLAIM",
    "WEBAPI_URL_CLAIM",
    "SigningKey",
    "identity_claims",
    "serial_of",
]
