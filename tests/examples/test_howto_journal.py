"""What the journal holds over HTTP: one record at /_calls/{seq}, and /_health. docs/journal.md shows
both JSON documents verbatim; the test makes the call and compares (the time and port aside)."""

import base64
import http.client
import json

import requests

from mockserver import ThreadedFakeServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

RECORD = """\
{
  "seq": 1,
  "time": "2026-12-03T13:44:04.859Z",
  "method": "POST",
  "path": "/Cust12345/api/v1/Agents/BLOB/SaveImageStream",
  "prefix": "/Cust12345",
  "operation": "SaveImageStream",
  "query": [],
  "select": [],
  "headers": [["Host", "127.0.0.1:8080"], ["Accept-Encoding", "identity"], ["Content-Length", "160"],
              ["Content-Type", "application/json"], ["Authorization", "Basic <redacted>"]],
  "status": 200,
  "outcome": "accepted",
  "blob_id": 33,
  "request": {
    "Type": "PersonImage",
    "image": {"size": 70, "format": "png",
              "sha256": "c414cd0e204de974f73753c7e28d7638e7b3691bb8b1a2bab6b25bb7fed7ce77"},
    "Description": "a picture"
  },
  "auth": {"scheme": "Basic", "principal": "tje0", "credential": "password"},
  "locale": {"language": null, "translate": true, "culture": null, "timezone": null,
             "include_tz_offset": false, "browser_tz_offset": null, "app_token": false},
  "content_type": "application/json",
  "response_type": "application/json",
  "violations": [],
  "warnings": [],
  "fault": null,
  "ref": "#1",
  "tenant": "Cust12345"
}
"""


def test_one_record_as_json():
    with ThreadedFakeServer(port=0, first_id=33) as fake:
        body = json.dumps({"Type": "PersonImage", "Image": base64.b64encode(PNG).decode(), "Description": "a picture"})
        connection = http.client.HTTPConnection(fake.host, fake.port, timeout=10)
        path = "/Cust12345/api/v1/Agents/BLOB/SaveImageStream"
        headers = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw"}
        connection.request("POST", path, body=body, headers=headers)
        assert connection.getresponse().read() == b"33"
        connection.close()

        record = requests.get(f"{fake.url}/_calls/1", timeout=10).json()

    expected = json.loads(RECORD)
    assert record["time"].endswith("Z")
    assert record["headers"][0] == ["Host", f"{fake.host}:{fake.port}"]
    record["time"], record["headers"][0] = expected["time"], expected["headers"][0]
    assert record == expected
