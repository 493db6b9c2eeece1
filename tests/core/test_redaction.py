"""redaction.py: every shape of secret header redacted; what is kept is printable."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from mockserver.core.headers.redaction import redact_cookies, redact_headers


@pytest.mark.parametrize(
    ("cookie", "kept"),
    [
        ("XSRF-TOKEN=abc; theme=dark", "XSRF-TOKEN=<redacted>; theme=<redacted>"),
        ("s3cr3t-session-value", "<redacted>"),  # no '=': the whole thing may be the secret
        ("dGplMDpQV19TRUNSRVQ=", "<redacted>"),  # a bare base64 secret: nothing after its '='
        ("dGplMDpQV19TRUNSRVQ==", "<redacted>"),
        ("has space=value", "<redacted>"),  # not a cookie name
        ("a" * 65 + "=v", "<redacted>"),  # too long to be a name anyone chose
        (" ; ;lang=en", "lang=<redacted>"),
        ('k=""', "k=<redacted>"),
        ("", ""),
    ],
)
def test_cookies_keep_only_what_is_surely_a_name(cookie: str, kept: str) -> None:
    assert redact_cookies(cookie) == kept


def test_recorded_headers_are_printable() -> None:
    headers = CIMultiDictProxy(CIMultiDict([("SO-Language", "n\udcf8"), ("X-Path", "C:\\x80"), ("Cookie", "\udcff")]))
    assert redact_headers(headers) == (
        ("SO-Language", "n\\xf8"),
        ("X-Path", "C:\\\\x80"),
        ("Cookie", "<redacted>"),
    )
