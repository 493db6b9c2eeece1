"""How to test asynchronous code that saves an image: the `superoffice_fake_async` fixture."""

import asyncio
import base64

import aiohttp
import pytest

# A 1x1 GIF.
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
AUTH = {"Authorization": "Basic " + base64.b64encode(b"tje0:Tje0").decode()}


async def upload_logo(session: aiohttp.ClientSession, base_url: str, image: bytes) -> int:
    """The code under test: store a project image and return its blob id."""
    body = {"type": "ProjectImage", "image": base64.b64encode(image).decode(), "description": "logo"}
    async with session.post(f"{base_url}/api/v1/Agents/BLOB/SaveImageStream", json=body) as response:
        response.raise_for_status()
        return await response.json()


@pytest.mark.superoffice(first_id=100)
async def test_upload_logo(superoffice_fake_async):
    async with aiohttp.ClientSession(headers=AUTH) as session:
        assert await upload_logo(session, superoffice_fake_async.url, GIF) == 100

    saved = superoffice_fake_async.assert_saved(type="ProjectImage", image=GIF)
    assert saved.blob_id == 100
    assert saved.image.format == "gif"


async def test_wait_for_uploads_made_in_the_background(superoffice_fake_async):
    async with aiohttp.ClientSession(headers=AUTH) as session:
        uploads = [asyncio.create_task(upload_logo(session, superoffice_fake_async.url, GIF)) for _ in range(3)]

        calls = await superoffice_fake_async.wait_for_calls(3, timeout=5, outcome="accepted")

        assert sorted(call.blob_id for call in calls) == [1, 2, 3]
        await asyncio.gather(*uploads)
