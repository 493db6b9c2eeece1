"""How to test the whole image flow: save, attach to a person, read back; then check coverage."""

import base64

import requests

AGENT = "/api/v1/Agents/BLOB"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def set_profile_picture(base_url: str, person_id: int, image: bytes) -> int:
    """The code under test: store the picture, then make it the person's image."""
    session = requests.Session()
    session.auth = ("tje0", "Tje0")
    saved = session.post(
        f"{base_url}{AGENT}/SaveImageStream",
        json={"Type": "PersonImage", "Image": base64.b64encode(image).decode(), "Description": "profile"},
        timeout=10,
    )
    saved.raise_for_status()
    blob_id = saved.json()
    attached = session.post(
        f"{base_url}{AGENT}/ChangePersonImage", json={"PersonId": person_id, "BlobId": blob_id}, timeout=10
    )
    attached.raise_for_status()  # 204 No Content
    return blob_id


def test_set_profile_picture(superoffice_fake):
    blob_id = set_profile_picture(superoffice_fake.url, person_id=7, image=PNG)

    assert superoffice_fake.person_images == {7: blob_id}
    assert superoffice_fake.images[blob_id] == PNG
    # GetBlobStream answers the raw bytes (or base64 JSON under Accept: application/json).
    stream = requests.post(
        f"{superoffice_fake.url}{AGENT}/GetBlobStream",
        json={"BlobEntityId": blob_id},
        auth=("tje0", "Tje0"),
        timeout=10,
    )
    assert stream.headers["Content-Type"] == "application/octet-stream"
    assert stream.content == PNG


def test_attaching_an_unknown_blob_is_a_400(superoffice_fake):
    response = requests.post(
        f"{superoffice_fake.url}{AGENT}/ChangePersonImage",
        json={"PersonId": 7, "BlobId": 999},
        auth=("tje0", "Tje0"),
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["Violations"][0]["message"] == "body.BlobId must be an id the fake issued (got 999)"
    assert superoffice_fake.person_images == {}


def test_what_the_tests_never_tried(superoffice_fake):
    set_profile_picture(superoffice_fake.url, person_id=7, image=PNG)

    report = superoffice_fake.coverage()  # the same JSON as GET /_coverage
    assert report["operations"]["never"] == ["ChangeProjectImage", "GetBlobStream"]
    save = report["by_operation"]["SaveImageStream"]
    assert save["request_media_types"]["exercised"] == ["application/json"]
    assert "application/xml" in save["request_media_types"]["never"]
    assert "SaveImageStream: Type = ProjectImage" in report["never_tried"]
