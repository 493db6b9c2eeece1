"""images.decode_problem: an image is checked by a real decoder (Pillow), not only by its magic bytes."""

from __future__ import annotations

import base64
import io
import json

import pytest
from hypothesis import given
from PIL import Image

from mockserver import FakeServer
from mockserver.core.vocabulary import images
from mockserver.core.vocabulary.images import LOAD_MAX_PIXELS, ImageInfo, decode_problem, image_warning

from ..properties.strategies import JPEG, WEBP, bmp, gif, ico, png, real_images, svg
from ..properties.wire import exchange, journal_views, request_bytes
from ..support import GIF, PNG

README_GIF = base64.b64decode("R0lGODlhAQABAAAAACw=")  # the first 14 bytes of a GIF, nothing more


def problem(data: bytes) -> str | None:
    return decode_problem(data, ImageInfo.of(data))


@pytest.mark.parametrize(
    "data", [GIF, PNG, JPEG, WEBP, png(40, 30, b"abc"), gif(7, 5, b"xyz"), bmp(3, 3, b"q"), ico(4, 4, b"r")]
)
def test_real_images_have_no_problem(data: bytes) -> None:
    assert problem(data) is None
    assert image_warning("body.Image", data, ImageInfo.of(data)) is None


@given(real_images())
def test_every_image_the_strategies_build_is_decodable(data: bytes) -> None:
    assert problem(data) is None


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (README_GIF, "GIF"),
        (b"GIF89a", "GIF"),
        (PNG[:-20], "PNG"),  # truncated
        (PNG[:-5] + b"\x00" * 5, "PNG"),  # the IEND chunk broken
        (JPEG[:-40], "JPEG"),
        (b"\xff\xd8\xff\xe0" + bytes(16), "JPEG"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"BM" + bytes(40), "BMP"),
        (b"\x00\x00\x01\x00\x01\x00" + bytes(20), "ICO"),
        (gif(6, 6, b"abc")[:-12], "GIF"),  # cut inside the pixel data
    ],
)
def test_right_magic_bytes_with_broken_data_are_a_warning_naming_field_expectation_and_reason(
    data: bytes, fmt: str
) -> None:
    warning = image_warning("body.Image", data, ImageInfo.of(data))
    assert warning is not None
    assert (warning.location, warning.expected) == ("body.Image", f"a decodable {fmt} image")
    assert warning.got.startswith(f"{fmt} data that Pillow cannot read: ")
    assert "0x" not in warning.got  # no object reprs with addresses


def test_svg_stays_a_text_check_and_unrecognised_bytes_keep_their_own_warning() -> None:
    assert problem(svg(2, 2, b"abc")) is None
    assert problem(b"\x00\x01\x02") is None
    warning = image_warning("body.Image", b"\x00\x01\x02", ImageInfo.of(b"\x00\x01\x02"))
    assert warning is not None and warning.expected.startswith("an image (GIF, PNG")


def test_a_verdict_is_kept_per_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    data = png(5, 5, b"cache")
    assert problem(data) is None
    monkeypatch.setattr(images, "_pillow_problem", lambda *_: pytest.fail("decoded twice"))
    assert problem(data) is None


def test_an_image_of_more_than_the_pixel_limit_is_verified_but_not_decoded() -> None:
    side = int(LOAD_MAX_PIXELS**0.5) + 1
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    truncated = out.getvalue()[:-30]
    # verify() reads every chunk: the cut is found without decoding 25 million pixels.
    assert (problem(truncated) or "").startswith(("OSError", "SyntaxError"))
    assert problem(out.getvalue()) is None


async def test_regression_the_readme_gif_is_saved_with_a_warning_over_http() -> None:
    body = json.dumps({"Type": "PersonImage", "Image": "R0lGODlhAQABAAAAACw="}).encode()
    async with FakeServer(port=0) as fake:
        status, _, answer = await exchange(fake, request_bytes(body))
        assert (status, answer) == (200, b"1")  # the real server stores whatever bytes it gets
        views = await journal_views(fake, 1)
        [warning] = views["one"]["warnings"]
        assert warning["location"] == "body.Image"
        assert warning["expected"] == "a decodable GIF image"
        assert warning["got"].startswith("GIF data that Pillow cannot read: ")
        status, _, _ = await exchange(
            fake, request_bytes(json.dumps({"Image": base64.b64encode(GIF).decode(), "Type": 1}).encode())
        )
        assert status == 200 and fake.calls.last.warnings == ()
