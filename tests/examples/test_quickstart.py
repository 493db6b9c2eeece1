"""The README's first test: a save against the `superoffice_fake` fixture, then what it recorded."""

import base64

import requests

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")  # a 1x1 GIF


def test_save_a_picture(superoffice_fake):
    body = {"Type": "PersonImage", "Image": base64.b64encode(GIF).decode(), "Description": "me"}
    response = requests.post(superoffice_fake.api_url, json=body, auth=("tje0", "Tje0"), timeout=10)

    assert response.json() == 1  # the first blob id
    superoffice_fake.assert_saved(type="PersonImage", description="me", image=GIF)
    assert superoffice_fake.calls.last.auth.principal == "tje0"
