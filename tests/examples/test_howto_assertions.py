"""How a failing assertion reads: the near-miss messages of assert_saved, assert_no_violations and
wait_for_calls_sync. docs/pytest.md shows these messages verbatim; the test makes them happen."""

import base64

import pytest
import requests

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")

ASSERT_SAVED = """\
Expected an accepted save with:
  outcome     = accepted
  Type        = 'PersonImage'
  Description = 'me'
but none arrived.
2 call(s) recorded; the closest:
  #2 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected
      outcome: expected accepted, got rejected (400: body.Type must be a BlobLinkType name or number (1-19) (got 'Nope', which is not a BlobLinkType))
      Type: expected 'PersonImage', got 'Nope', which is not a BlobLinkType
  #1 POST /api/v1/Agents/BLOB/SaveImageStream -> 200 blob id 33
      Type: expected 'PersonImage', got 'ProjectImage'
      Description: expected 'me', got 'logo'
"""

NO_VIOLATIONS = """\
Expected no rejected calls, but 1 of 2 were rejected:
  #2 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected
      body.Type must be a BlobLinkType name or number (1-19) (got 'Nope', which is not a BlobLinkType)
"""

WAIT_FOR_CALLS = """\
Expected 3 call(s) within 0.1 s, but 2 arrived.
Calls recorded:
  #1 POST /api/v1/Agents/BLOB/SaveImageStream -> 200 blob id 33
  #2 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected
"""


def save(url: str, type_: str, description: str) -> requests.Response:
    body = {"Type": type_, "Image": base64.b64encode(GIF).decode(), "Description": description}
    return requests.post(url, json=body, auth=("tje0", "Tje0"), timeout=10)


@pytest.mark.superoffice(first_id=33)
def test_what_a_near_miss_says(superoffice_fake):
    save(superoffice_fake.api_url, "ProjectImage", "logo")  # accepted: blob id 33
    save(superoffice_fake.api_url, "Nope", "me")  # rejected: not a BlobLinkType

    with pytest.raises(AssertionError) as saved:
        superoffice_fake.assert_saved(type="PersonImage", description="me")
    with pytest.raises(AssertionError) as violations:
        superoffice_fake.assert_no_violations()
    with pytest.raises(AssertionError) as waited:
        superoffice_fake.wait_for_calls_sync(3, timeout=0.1)

    assert str(saved.value) + "\n" == ASSERT_SAVED
    assert str(violations.value) + "\n" == NO_VIOLATIONS
    assert str(waited.value) + "\n" == WAIT_FOR_CALLS
