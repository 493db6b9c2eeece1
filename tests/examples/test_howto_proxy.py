"""How to check a client and a tenant against the contract at once: `ProxyServer` in a pytest test.

docs/proxy.md quotes the test below verbatim. Here the tenant is a fake, so the test runs anywhere;
against a sandbox tenant, the fixture returns its URL instead.
"""

import base64

import aiohttp
import pytest

from mockserver import FakeServer, ProxyServer

AUTH = {"Authorization": "Basic " + base64.b64encode(b"tje0:Tje0").decode()}
GIF = base64.b64encode(base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")).decode()


@pytest.fixture
async def tenant_url():
    # Against a sandbox tenant: return "https://sod.superoffice.com/Cust12345" (and use its credentials).
    async with FakeServer(port=0) as fake:
        yield fake.url + "/Cust12345"


async def test_the_client_and_the_tenant_keep_the_contract(tenant_url):
    async with ProxyServer(tenant_url, port=0) as proxy, aiohttp.ClientSession(headers=AUTH) as session:
        body = {"Type": "PersonImage", "Image": GIF, "Description": "through the proxy"}
        async with session.post(proxy.url + "/api/v1/Agents/BLOB/SaveImageStream", json=body) as response:
            blob_id = await response.json()  # the tenant's answer, unchanged

        assert proxy.calls.last.blob_id == blob_id  # journaled with the tenant's status and id
        assert not any(call.violations for call in proxy.calls)  # the client's requests kept the contract
        assert proxy.drift.summary()["drift"] == 0  # and so did the tenant's answers
