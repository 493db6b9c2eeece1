"""How parallel test runs share one fake: isolated tenants, one per URL prefix (`--tenants isolated`)."""

import base64

import requests

from mockserver import ThreadedFakeServer

GIF = base64.b64encode(base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")).decode()
BODY = {"Type": "PersonImage", "Image": GIF, "Description": "avatar"}
AUTH = ("tje0", "Tje0")


def test_each_prefix_is_a_tenant_of_its_own():
    with ThreadedFakeServer(port=0, tenants="isolated") as fake:
        for tenant in ("Cust1", "Cust2", "Cust1"):
            url = f"{fake.url}/{tenant}/api/v1/Agents/BLOB/SaveImageStream"
            requests.post(url, json=BODY, auth=AUTH, timeout=10).raise_for_status()

        assert [c.blob_id for c in fake.tenant("Cust1").calls] == [1, 2]  # each tenant counts from 1
        assert [c.blob_id for c in fake.tenant("Cust2").calls] == [1]
        own = requests.get(f"{fake.url}/Cust2/_calls", timeout=10).json()["calls"]
        assert [c["tenant"] for c in own] == ["Cust2"]  # /Cust2/_calls is that tenant's journal
        everyone = requests.get(f"{fake.url}/_calls", timeout=10).json()["calls"]
        assert len(everyone) == 3  # /_calls at the root shows every tenant's calls
