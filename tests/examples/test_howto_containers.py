"""docs/any-language.md: the fake in a container, started by Testcontainers, driven by the remote client.

Needs the `containers` extra and a Docker engine with the image built (`docker build -t mockserver .`);
`make container-test` builds it and runs this file. MOCKSERVER_IMAGE names another image;
MOCKSERVER_HOST_NETWORK=1 runs it on the host's network (for an engine without a bridge network).
"""

import os

import pytest
import requests

from mockserver.testing.containers import MockserverContainer

pytestmark = pytest.mark.container

IMAGE = os.environ.get("MOCKSERVER_IMAGE", "mockserver:latest")
HOST_NETWORK = os.environ.get("MOCKSERVER_HOST_NETWORK") == "1"
GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


def test_the_fake_in_a_container() -> None:
    with MockserverContainer(IMAGE, admin_token="s3cret", first_id=33, host_network=HOST_NETWORK) as container:
        fake = container.connect()
        saved = requests.post(
            container.get_url() + "/api/v1/Agents/BLOB/SaveImageStream",
            json={"Type": "PersonImage", "Image": GIF, "Description": "from a container"},
            headers={"Authorization": "Basic dGplMDpUamUw"},
            timeout=10,
        )
        assert saved.text == "33"

        fake.assert_saved(type="PersonImage", description="from a container")
        with pytest.raises(AssertionError, match="Description: expected 'you', got 'from a container'"):
            fake.assert_saved(description="you")
