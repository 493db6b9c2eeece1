"""The README's async test: `superoffice_fake_async` runs the fake in the test's own event loop."""

import base64

import aiohttp
import pytest

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")  # a 1x1 GIF
AUTH = {"Authorization": "Basic dGplMDpUamUw"}  # tje0:Tje0


@pytest.mark.asyncio  # not needed with asyncio_mode = "auto"
@pytest.mark.superoffice(first_id=33)
async def test_save_a_logo(superoffice_fake_async):
    body = {"Type": "ProjectImage", "Image": base64.b64encode(GIF).decode(), "Description": "logo"}
    async with aiohttp.ClientSession(headers=AUTH) as session:
        response = await session.post(superoffice_fake_async.api_url, json=body)
        assert await response.json() == 33

    superoffice_fake_async.assert_saved(type="ProjectImage", image=GIF, blob_id=33)
