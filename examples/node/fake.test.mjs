// A service's test in Node, with the fake as its partner: node's own test runner and fetch, no npm package.
//
//   MOCKSERVER_URL=http://127.0.0.1:8080 node --test fake.test.mjs
//
// MOCKSERVER_ADMIN_TOKEN is sent on the /_ routes when set. Each test starts from a reset fake.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";

const FAKE = (process.env.MOCKSERVER_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const ADMIN = process.env.MOCKSERVER_ADMIN_TOKEN
  ? { Authorization: `Bearer ${process.env.MOCKSERVER_ADMIN_TOKEN}` }
  : {};
const GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="; // a 1x1 GIF in base64

// What the service under test would do: save an image through the agent call.
async function saveImage(description) {
  const resp = await fetch(`${FAKE}/api/v1/Agents/BLOB/SaveImageStream`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Basic dGplMDpUamUw" },
    body: JSON.stringify({ Type: "PersonImage", Image: GIF, Description: description }),
  });
  assert.equal(resp.status, 200);
  return Number(await resp.text()); // the new blob id
}

// POST /_assert: the fake checks the expectation; 200 with the calls, or 409 with the message.
async function expectSaved(expected, wait = 0) {
  const resp = await fetch(`${FAKE}/_assert`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...ADMIN },
    body: JSON.stringify({ assert_saved: expected, wait }),
  });
  return { status: resp.status, body: await resp.json() };
}

beforeEach(async () => {
  await fetch(`${FAKE}/_reset`, { method: "POST", headers: ADMIN });
});

test("a save arrives with the expected values", async () => {
  const blobId = await saveImage("from node");
  const { status, body } = await expectSaved({ type: "PersonImage", description: "from node" });
  assert.equal(status, 200);
  assert.equal(body.calls[0].blob_id, blobId);
});

test("a near miss names the field that differed", async () => {
  await saveImage("from node");
  const { status, body } = await expectSaved({ description: "something else" });
  assert.equal(status, 409);
  assert.match(body.message, /Description: expected 'something else', got 'from node'/);
  assert.deepEqual(body.near_misses[0].differences, [
    { field: "Description", expected: "'something else'", got: "'from node'" },
  ]);
  console.log(JSON.stringify({ message: body.message })); // the same text the Python API raises
});

test("a save made later is waited for", async () => {
  setTimeout(() => saveImage("later"), 200); // a queue worker of the service, say
  const { status, body } = await expectSaved({ description: "later" }, 10);
  assert.equal(status, 200);
  assert.equal(body.calls[0].request.Description, "later");
});
