"""The curl session of docs/getting-started.md, run against a fake: save an image as JSON and as XML,
then see an error.

Each command is pasted into the page verbatim (with ``make serve`` listening on port 8080);
the test swaps in the fake's real URL and checks the output shown under each command.
"""

import shutil
import subprocess

import pytest

from mockserver import ThreadedFakeServer

SAVE_JSON = """\
curl -s http://127.0.0.1:8080/api/v1/Agents/BLOB/SaveImageStream \\
  -H 'Authorization: Basic dGplMDpUamUw' \\
  -H 'Content-Type: application/json' \\
  -d '{"Type": "PersonImage", "Image": "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "Description": "a 1x1 GIF"}'
"""
SAVE_JSON_OUTPUT = "1"

SAVE_XML = """\
curl -s http://127.0.0.1:8080/api/v1/Agents/BLOB/SaveImageStream \\
  -H 'Authorization: Basic dGplMDpUamUw' \\
  -H 'Content-Type: application/xml' \\
  -d '<request><Type>ProjectImage</Type><Image>R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==</Image></request>'
"""
SAVE_XML_OUTPUT = '<int xmlns="http://schemas.microsoft.com/2003/10/Serialization/">2</int>'

DOC_SAMPLE = """\
curl -s http://127.0.0.1:8080/api/v1/Agents/BLOB/SaveImageStream \\
  -H 'Authorization: Basic dGplMDpUamUw' \\
  -H 'Content-Type: application/json' \\
  -d '{"Type": "AccessToken", "Image": "GIF89....File contents as raw bytes..."}' \\
  | python3 -m json.tool --no-ensure-ascii
"""
DOC_SAMPLE_OUTPUT = """\
{
    "Error": true,
    "ErrorType": "ArgumentException",
    "Message": "body.Image must be base64 (got 'GIF89....Fi…': '.' at offset 5 is not a base64 character)",
    "ErrorSource": "SuperOffice.Services.WebApi",
    "Violations": [
        {
            "location": "body.Image",
            "expected": "base64",
            "got": "'GIF89....Fi…': '.' at offset 5 is not a base64 character",
            "message": "body.Image must be base64 (got 'GIF89....Fi…': '.' at offset 5 is not a base64 character)"
        }
    ]
}"""


def run(command: str, url: str) -> str:
    done = subprocess.run(
        ["bash", "-c", command.replace("http://127.0.0.1:8080", url)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example needs the curl command")
def test_the_curl_session():
    with ThreadedFakeServer(port=0) as fake:
        assert run(SAVE_JSON, fake.url) == SAVE_JSON_OUTPUT
        assert run(SAVE_XML, fake.url) == SAVE_XML_OUTPUT
        assert run(DOC_SAMPLE, fake.url) == DOC_SAMPLE_OUTPUT

        assert [c.status for c in fake.calls] == [200, 200, 400]
        assert fake.calls[0].type == "PersonImage"
        assert fake.images[2][:6] == b"GIF89a"


def test_the_page_shows_exactly_these_commands_and_outputs():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "getting-started.md").read_text(encoding="utf-8")
    for text in (SAVE_JSON, SAVE_JSON_OUTPUT, SAVE_XML, SAVE_XML_OUTPUT, DOC_SAMPLE, DOC_SAMPLE_OUTPUT):
        assert text in page
