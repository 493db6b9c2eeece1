"""The schemas of the admin API's description (admin_openapi.py): records, errors, faults, assertions."""

from __future__ import annotations

from typing import Any

from ..core.answering.faults import KINDS
from .expectations import ASSERTIONS, MAX_WAIT


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def obj(required: list[str], properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **more}


ERROR = json_answer(ref("Error"), "SuperOffice's error shape: what was expected where, and what arrived")
ERRORS = {
    "400": ERROR,
    "401": json_answer(ref("Error"), "the admin token is missing or wrong (only with --admin-token)"),
    "403": json_answer(ref("Error"), "the Host or Origin guard refused a request a web page may have sent"),
}
STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
WAIT = {"type": "number", "minimum": 0, "maximum": MAX_WAIT}
VIOLATION = obj(
    ["location", "expected", "got", "message"],
    {"location": STRING, "expected": STRING, "got": STRING, "message": STRING},
)
RECORD_FIELDS = {
    "seq": {"type": "integer", "minimum": 1},
    "time": {"type": "string", "format": "date-time"},
    "method": STRING,
    "path": STRING,
    "prefix": STRING,
    "operation": nullable("string"),
    "query": {"type": "array", "items": {"type": "array", "items": STRING, "minItems": 2, "maxItems": 2}},
    "select": {"type": "array", "items": STRING},
    "headers": {"type": "array", "items": {"type": "array", "items": STRING, "minItems": 2, "maxItems": 2}},
    "status": {"type": "integer", "description": "0: the connection was dropped by a fault"},
    "outcome": {"enum": ["accepted", "rejected"]},
    "blob_id": nullable("integer"),
    "request": {"type": "object", "description": "the bound body; an image as its size, sha256 and format"},
    "auth": obj(
        ["scheme", "principal", "credential"],
        {"scheme": nullable("string"), "principal": nullable("string"), "credential": nullable("string")},
    ),
    "locale": {"type": "object"},
    "content_type": nullable("string"),
    "response_type": nullable("string"),
    "violations": {"type": "array", "items": ref("Violation")},
    "warnings": {"type": "array", "items": ref("Violation")},
    "fault": nullable("string"),
    "extra": {"type": "object"},
    "tenant": {"type": "string", "description": "the tenant prefix without slashes ('' for the default)"},
}
RECORD = obj([name for name in RECORD_FIELDS if name != "extra"], RECORD_FIELDS)
FAULT_FIELDS = {
    "kind": {"enum": list(KINDS)},
    "status": INTEGER,
    "delay_ms": INTEGER,
    "path": STRING,
    "type": STRING,
    "principal": STRING,
    "times": INTEGER,
    "fraction": NUMBER,
    "seed": INTEGER,
    "retry_after": INTEGER,
    "message": STRING,
    "after_save": BOOLEAN,
}
FAULT_SPEC = obj(["kind"], FAULT_FIELDS, additionalProperties=False)
INJECTED = obj(
    ["id", "kind", "label", "hits", "matched", "remaining", "active"],
    {
        **FAULT_FIELDS,
        "id": INTEGER,
        "label": STRING,
        "hits": INTEGER,
        "matched": INTEGER,
        "remaining": nullable("integer"),
        "active": BOOLEAN,
    },
)
ASSERT_PARAMS = {
    "assert_saved": {
        "type": STRING,
        "description": STRING,
        "image": {"type": "string", "contentEncoding": "base64"},
        "image_sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        "blob_id": {"type": "integer", "minimum": 1},
        "count": {"type": "integer", "minimum": 0},
    },
    "wait_for_calls": {
        "n": {"type": "integer", "minimum": 1},
        "outcome": {"enum": ["accepted", "rejected"]},
        "type": STRING,
        "path": STRING,
        "operation": STRING,
        "status": INTEGER,
        "method": STRING,
    },
}
ASSERT_REQUEST = {
    "description": "one assertion of the Python API by its method name, its keywords, and an optional wait",
    "oneOf": [
        obj(
            [name],
            {
                name: {
                    "type": ["object", "null"],
                    "properties": ASSERT_PARAMS.get(name, {}),
                    "additionalProperties": False,
                },
                "wait": WAIT,
            },
            additionalProperties=False,
        )
        for name in ASSERTIONS
    ],
}
NEAR_MISS = obj(
    ["seq", "call", "differences"],
    {
        "seq": INTEGER,
        "call": STRING,
        "differences": {
            "type": "array",
            "items": obj(["field", "expected", "got"], {"field": STRING, "expected": STRING, "got": STRING}),
        },
    },
)
ASSERT_PASSED = obj(
    ["passed", "assertion", "wait", "calls"],
    {"passed": {"const": True}, "assertion": STRING, "wait": NUMBER, "calls": {"type": "array", "items": ref("Call")}},
)
ASSERT_FAILED = obj(
    ["passed", "assertion", "wait", "timed_out", "message", "near_misses"],
    {
        "passed": {"const": False},
        "assertion": STRING,
        "wait": NUMBER,
        "timed_out": BOOLEAN,
        "message": {"type": "string", "description": "the text the Python AssertionError carries"},
        "near_misses": {"type": "array", "items": ref("NearMiss")},
    },
)
CALLS = obj(
    ["calls", "dropped"],
    {
        "calls": {"type": "array", "items": ref("Call")},
        "dropped": {"type": "integer", "description": "calls the bounded journal let go of"},
        "timed_out": {"type": "boolean", "description": "with ?wait=: no call came before the wait ended"},
    },
)
HEALTH = obj(
    ["status", "version", "uptime_s", "next_id", "calls", "images", "faults", "tenants", "settings", "debug_routes"],
    {
        "status": {"const": "ok"},
        "version": STRING,
        "uptime_s": NUMBER,
        "next_id": INTEGER,
        "calls": INTEGER,
        "images": INTEGER,
        "faults": INTEGER,
        "tenants": obj(
            ["mode", "count", "names"], {"mode": STRING, "count": INTEGER, "names": {"type": "array", "items": STRING}}
        ),
        "settings": {"type": "object", "description": "every setting in force; secrets say only set or unset"},
        "debug_routes": STRING,
    },
)
SCHEMAS = {
    "Error": obj(
        ["Error", "ErrorType", "Message", "ErrorSource", "Violations"],
        {
            "Error": {"const": True},
            "ErrorType": STRING,
            "Message": STRING,
            "ErrorSource": STRING,
            "Violations": {"type": "array", "items": ref("Violation")},
        },
    ),
    "Violation": VIOLATION,
    "Call": RECORD,
    "Calls": CALLS,
    "FaultSpec": FAULT_SPEC,
    "Fault": INJECTED,
    "AssertRequest": ASSERT_REQUEST,
    "AssertPassed": ASSERT_PASSED,
    "AssertFailed": ASSERT_FAILED,
    "NearMiss": NEAR_MISS,
}
