"""docs/any-language.md: a fake served elsewhere, driven from Python with mockserver.connect.

Here the fake is served from a thread of the test process; in CI it is the container, at the URL
the suite is given (--superoffice-url or MOCKSERVER_URL).
"""

import asyncio
from collections.abc import Iterator

import pytest
import requests

import mockserver
from mockserver import ThreadedFakeServer

GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


@pytest.fixture
def base_url() -> Iterator[str]:
    with ThreadedFakeServer(port=0) as served:
        yield served.url


def save_image(base_url: str, description: str) -> None:
    """What the service under test does."""
    requests.post(
        f"{base_url}/api/v1/Agents/BLOB/SaveImageStream",
        json={"Type": "PersonImage", "Image": GIF, "Description": description},
        headers={"Authorization": "Basic dGplMDpUamUw"},
        timeout=10,
    ).raise_for_status()


def test_a_save_and_a_near_miss(base_url: str) -> None:
    fake = mockserver.connect(base_url)  # admin_token="..." when the fake has one
    fake.reset()
    save_image(base_url, "me")

    record = fake.assert_saved(type="PersonImage", description="me")
    assert record.blob_id == 1 and record.image is not None and record.image.format == "gif"

    with pytest.raises(AssertionError, match="Description: expected 'you', got 'me'"):
        fake.assert_saved(description="you")


async def test_a_save_made_later_is_waited_for(base_url: str) -> None:
    fake = mockserver.connect(base_url)
    fake.reset()
    later = asyncio.get_running_loop().run_in_executor(None, save_image, base_url, "from a worker")

    record = await fake.wait_for(description="from a worker", timeout=10)
    assert record.description == "from a worker"
    await later
