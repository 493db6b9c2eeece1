"""How to test synchronous code that saves an image: the `superoffice_fake` fixture."""

import base64

import pytest
import requests

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def upload_avatar(base_url: str, image: bytes) -> int:
    """The code under test: store a person's picture and return its blob id."""
    response = requests.post(
        f"{base_url}/api/v1/Agents/BLOB/SaveImageStream",
        json={"Type": "PersonImage", "Image": base64.b64encode(image).decode(), "Description": "avatar"},
        auth=("tje0", "Tje0"),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


@pytest.mark.superoffice(first_id=33)
def test_upload_avatar(superoffice_fake):
    assert upload_avatar(superoffice_fake.url, PNG) == 33

    superoffice_fake.assert_saved(type="PersonImage", description="avatar", image=PNG)
    superoffice_fake.assert_no_violations()
    assert superoffice_fake.images[33] == PNG
    assert superoffice_fake.calls.last.auth.principal == "tje0"


def test_a_bad_request_is_rejected_and_recorded(superoffice_fake):
    response = requests.post(
        superoffice_fake.url + "/api/v1/Agents/BLOB/SaveImageStream",
        json={"Type": "Selfie", "Image": base64.b64encode(PNG).decode()},
        auth=("tje0", "Tje0"),
        timeout=10,
    )

    assert response.status_code == 400
    call = superoffice_fake.calls.rejected.last
    assert call.violations[0].location == "body.Type"
    assert superoffice_fake.images == {}  # nothing was stored
