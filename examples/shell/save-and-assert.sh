#!/usr/bin/env bash
# Save through the fake, then assert over HTTP: curl and jq, nothing else.
#
#   MOCKSERVER_URL=http://127.0.0.1:8080 bash save-and-assert.sh
#
# Exit status 0 when the save is found and the near miss is reported; the near miss's message is
# printed, as the Python API would raise it.
set -euo pipefail
FAKE="${MOCKSERVER_URL:-http://127.0.0.1:8080}"
ADMIN=(-H "Authorization: Bearer ${MOCKSERVER_ADMIN_TOKEN:-}")
GIF='R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='

curl -sf -X POST "${ADMIN[@]}" "$FAKE/_reset" > /dev/null

# What the service under test would do.
curl -sf "$FAKE/api/v1/Agents/BLOB/SaveImageStream" \
  -H 'Authorization: Basic dGplMDpUamUw' -H 'Content-Type: application/json' \
  -d "{\"Type\": \"PersonImage\", \"Image\": \"$GIF\", \"Description\": \"from curl\"}" > /dev/null

# The expectation holds: 200.
status=$(curl -s -o /dev/null -w '%{http_code}' "${ADMIN[@]}" -H 'Content-Type: application/json' \
  -d '{"assert_saved": {"type": "PersonImage", "description": "from curl"}}' "$FAKE/_assert")
test "$status" = 200

# A near miss: 409, and the message names the field that differed.
answer=$(curl -s "${ADMIN[@]}" -H 'Content-Type: application/json' \
  -d '{"assert_saved": {"description": "something else"}}' "$FAKE/_assert")
test "$(jq -r .passed <<< "$answer")" = false
jq -r .message <<< "$answer"
