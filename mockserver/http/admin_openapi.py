"""The /_ routes described in OpenAPI 3.1, served at ``GET /_openapi.json``: a client can be generated from it.

Every route `debug.ROUTES` registers is here (tests/http/test_admin_openapi.py checks it, and
that real answers validate); with isolated tenants each is served under ``/{tenant}`` too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import VERSION
from .admin_schemas import BOOLEAN, ERROR, ERRORS, HEALTH, INTEGER, SCHEMAS, STRING, WAIT, json_answer, obj, ref
from .responses import json_response

CLEARED = obj(["cleared"], {"cleared": INTEGER})
FAULTS = obj(["faults"], {"faults": {"type": "array", "items": ref("Fault")}})
OBJECT = {"type": "object"}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STRING, "description": description}


CALL_FILTERS = [
    _query("since", {"type": "integer", "minimum": 0}, "only calls with a higher seq"),
    _query("limit", {"type": "integer", "minimum": 1}, "at most this many (the oldest after since, else the newest)"),
    _query("outcome", {"enum": ["accepted", "rejected"]}, "only accepted or only rejected calls"),
    _query("tenant", STRING, "only this tenant's calls (isolated tenants)"),
    _query("wait", WAIT, "hold the request until a call matches, at most this many seconds"),
]
COUNTED = {"type": "object", "additionalProperties": {"type": "integer"}}
PATHS: dict[str, dict[str, Any]] = {
    "/_calls": {
        "get": {
            "summary": "The journal: every recorded call, oldest first (text/html for a browser)",
            "parameters": CALL_FILTERS,
            "responses": {
                "200": {
                    "description": "the calls",
                    "content": {"application/json": {"schema": ref("Calls")}, "text/html": {"schema": STRING}},
                },
                **ERRORS,
                "429": json_answer(ref("Error"), "too many requests are waiting already"),
            },
        },
        "delete": {
            "summary": "Clear the journal (sequence numbers go on)",
            "responses": {
                "200": json_answer(obj(["cleared"], {"cleared": INTEGER}), "how many were cleared"),
                **ERRORS,
            },
        },
    },
    "/_calls/{seq}": {
        "get": {
            "summary": "One call by its sequence number",
            "parameters": [_path("seq", "the call's seq")],
            "responses": {"200": json_answer(ref("Call"), "the call"), **ERRORS, "404": ERROR},
        }
    },
    "/_images/{blob_id}": {
        "get": {
            "summary": "The stored bytes of an image, as saved",
            "parameters": [_path("blob_id", "the blob id the save answered")],
            "responses": {
                "200": {"description": "the image", "content": {"image/*": {"schema": {"type": "string"}}}},
                **ERRORS,
                "404": ERROR,
                "410": ERROR,
            },
        }
    },
    "/_reset": {
        "post": {
            "summary": "Forget everything: ids, journal, images, faults (every tenant's too)",
            "responses": {
                "200": json_answer(obj(["reset", "next_id"], {"reset": BOOLEAN, "next_id": INTEGER}), "reset"),
                **ERRORS,
            },
        }
    },
    "/_health": {
        "get": {"summary": "What is running, and its counts", "responses": {"200": json_answer(HEALTH, "ok"), **ERRORS}}
    },
    "/_coverage": {
        "get": {
            "summary": "Which parts of the contracts the recorded calls exercised, and which never",
            "responses": {"200": json_answer({"type": "object"}, "the coverage report"), **ERRORS},
        }
    },
    "/_faults": {
        "get": {
            "summary": "The injected faults",
            "responses": {"200": json_answer(FAULTS, "the faults, spent ones too"), **ERRORS},
        },
        "post": {
            "summary": "Inject one fault or a list of them (all checked before any is added)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [ref("FaultSpec"), {"type": "array", "items": ref("FaultSpec")}]}
                    }
                },
            },
            "responses": {
                "201": json_answer(FAULTS, "added"),
                **ERRORS,
                "415": ERROR,
            },
        },
        "delete": {
            "summary": "Remove every fault",
            "responses": {"200": json_answer(CLEARED, "how many"), **ERRORS},
        },
    },
    "/_faults/{id}": {
        "delete": {
            "summary": "Remove one fault",
            "parameters": [_path("id", "the fault's id")],
            "responses": {
                "200": json_answer(obj(["removed"], {"removed": INTEGER}), "removed"),
                **ERRORS,
                "404": ERROR,
            },
        }
    },
    "/_assert": {
        "post": {
            "summary": "Run one assertion of the Python API; optionally wait for it to hold",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("AssertRequest")}}},
            "responses": {
                "200": json_answer(ref("AssertPassed"), "the assertion holds: the calls it matched"),
                "409": json_answer(ref("AssertFailed"), "it does not: the Python message and the near misses"),
                **ERRORS,
                "413": ERROR,
                "429": json_answer(ref("Error"), "too many requests are waiting already"),
            },
        }
    },
    "/_clock": {
        "get": {
            "summary": "The fake's clock: what every time rule reads (credential expiry, timed states)",
            "responses": {"200": json_answer(OBJECT, "now, frozen or not, the offset from real time"), **ERRORS},
        },
        "post": {
            "summary": "Move the clock: advance_s, set (an ISO 8601 instant) or frozen",
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {"200": json_answer(OBJECT, "the clock as it now reads"), **ERRORS, "415": ERROR},
        },
    },
    "/_oauth/consent": {
        "post": {
            "summary": "A first OAuth token pair for a tenant, as a user's consent would give",
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {"200": json_answer(OBJECT, "the token pair"), **ERRORS, "415": ERROR},
        }
    },
    "/_credentials": {
        "get": {
            "summary": "What the login service issued and what credential events it saw (secrets as fingerprints)",
            "responses": {"200": json_answer(OBJECT, "issued credentials and events"), **ERRORS},
        }
    },
    "/_credentials/assert": {
        "post": {
            "summary": "Run one credential assertion (authenticated, reauthenticated_after_401, no_expired_reuse)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {
                "200": json_answer(OBJECT, "the assertion holds"),
                "409": json_answer(OBJECT, "it does not: the message naming the calls"),
                **ERRORS,
                "415": ERROR,
            },
        }
    },
    "/_tenants": {
        "get": {
            "summary": "Online mode: the hosts, every tenant's host and state, and the changes so far",
            "responses": {"200": json_answer(OBJECT, "hosts, tenants, changes"), **ERRORS, "404": ERROR},
        }
    },
    "/_tenants/{ctx}": {
        "get": {
            "summary": "Online mode: one tenant's host, state and status API answer",
            "parameters": [_path("ctx", "the tenant's context identifier, e.g. Cust12345")],
            "responses": {"200": json_answer(OBJECT, "the tenant"), **ERRORS, "404": ERROR},
        }
    },
    "/_tenants/{ctx}/move": {
        "post": {
            "summary": "Online mode: move a tenant to another host, now or after N calls",
            "parameters": [_path("ctx", "the tenant's context identifier, e.g. Cust12345")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {"200": json_answer(OBJECT, "the tenant"), **ERRORS, "404": ERROR, "415": ERROR},
        }
    },
    "/_tenants/{ctx}/state": {
        "post": {
            "summary": "Online mode: set a tenant's state, for good, for N calls or for a span of time",
            "parameters": [_path("ctx", "the tenant's context identifier, e.g. Cust12345")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {"200": json_answer(OBJECT, "the tenant"), **ERRORS, "404": ERROR, "415": ERROR},
        }
    },
    "/_notifications": {
        "get": {
            "summary": "Online mode: the state-change notifications sent, and each delivery attempt",
            "responses": {"200": json_answer(OBJECT, "the notifications"), **ERRORS, "404": ERROR},
        },
        "post": {
            "summary": "Online mode: set the app's State Change URL",
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {"200": json_answer(OBJECT, "the notifications"), **ERRORS, "404": ERROR, "415": ERROR},
        },
    },
    "/_openapi.json": {
        "get": {
            "summary": "This description",
            "responses": {"200": json_answer({"type": "object"}, "OpenAPI 3.1"), **ERRORS},
        }
    },
}


def build_admin_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the /_ routes, and of each under ``/{tenant}`` (isolated tenants)."""
    paths: dict[str, Any] = dict(PATHS)
    tenant = _path("tenant", "an isolated tenant's URL prefix, e.g. Cust12345 (--tenants isolated)")
    for path, item in PATHS.items():
        paths["/{tenant}" + path] = {
            method: {
                **op,
                "operationId": f"tenant_{method}_{_op_name(path)}",
                "parameters": [tenant, *op.get("parameters", [])],
            }
            for method, op in item.items()
        }
        for method, op in item.items():
            op.setdefault("operationId", f"{method}_{_op_name(path)}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockserver admin API",
            "version": VERSION,
            "description": "The /_ routes of the SuperOffice BLOB agent fake: journal, assertions, faults, images, "
            "the clock, credentials and Online tenants. The login endpoints are part of the faked SuperOffice API, "
            "not of this one.",
        },
        "security": [{}, {"bearer": []}, {"token": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the admin token (--admin-token)"},
                "token": {"type": "apiKey", "in": "query", "name": "token", "description": "the admin token"},
            },
            "schemas": SCHEMAS,
        },
    }


def _op_name(path: str) -> str:
    return path.strip("/_").replace("/", "_").replace("{", "").replace("}", "").replace(".", "_")


DOCUMENT = build_admin_document()


async def openapi(request: web.Request) -> web.Response:
    return json_response(DOCUMENT)
