"""Export the contracts as an OpenAPI 3.1 document (`mockserver openapi [--out FILE]`).

The document describes what the fake serves, which is what SuperOffice documents plus what
it does not write down: the error body, the error statuses, the auth schemes, and that enum
properties also take their numbers. Operation ids, property names, enum names and media
types are SuperOffice's own, so the document can be compared with theirs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..core.answering.coverage import error_statuses
from ..core.headers import media
from ..core.loader import load_contracts
from ..core.vocabulary.contract import INT32_MAX, Contract, ContractSet, Property
from .helptext import command_parser

ERROR_SCHEMA = "SuperOffice.WebApi.Error"
INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": INT32_MAX}
STATUS_TEXT = {
    400: "The request is invalid; Violations name each field, what was expected and what was got.",
    401: "Missing or wrong credentials.",
    404: "The entity the request names does not exist.",
    405: "The method is not allowed.",
    406: "None of the Accept types can be produced (strict mode only).",
    413: "The body is larger than the fake's limit.",
    415: "The Content-Type is not supported.",
    507: "The blob id sequence is exhausted.",
}
SECURITY_SCHEMES: dict[str, Any] = {
    "basic": {
        "type": "http",
        "scheme": "basic",
        "description": "Onsite: base64 of user:password, or an unencoded ticket (Basic 7T:...).",
    },
    "bearer": {"type": "http", "scheme": "bearer", "description": "SuperId access token (8A:Cust12345.xxx)."},
    "soTicket": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The whole header value: 'SOTicket 7T:...' (Online also sends SO-AppToken).",
    },
    "xsrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-XSRF-TOKEN",
        "description": "Without Authorization: the value of the XSRF-TOKEN cookie set at login.",
    },
}
# Described by the security schemes (or ignored by OpenAPI when given as parameters).
_NOT_PARAMETERS = frozenset({"authorization", "x-xsrf-token", "accept", "content-type"})


def request_schema_name(contract: Contract) -> str:
    return f"SuperOffice.WebApi.v1.Carriers.{contract.agent}Carriers.{contract.name}Request"


def property_schema(prop: Property) -> dict[str, Any]:
    """The JSON schema of one body property, as the fake binds it."""
    schema: dict[str, Any]
    if prop.enum is not None:
        names = {"type": "string", "enum": list(prop.enum.members)}
        numbers = {"type": "integer", "format": "int32", "enum": sorted(prop.enum.by_number)}
        # SuperOffice documents the names; the server also binds the numbers.
        schema = {"anyOf": [names, numbers]}
    elif prop.type == "bytes":
        schema = {"type": "string", "format": "byte", "contentEncoding": "base64"}
    elif prop.type == "int32":
        schema = dict(INT32)
    elif prop.type == "bool":
        schema = {"type": "boolean"}
    else:
        schema = {"type": "string"}
    if prop.description:
        schema["description"] = prop.description
    return schema


def _request_schema(contract: Contract) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "description": f"{contract.name}: {contract.summary}".rstrip(": "),
        "type": "object",
        "properties": {p.name: property_schema(p) for p in contract.properties},
    }
    required = [p.name for p in contract.properties if p.required]
    if required:
        schema["required"] = required
    return schema


def _result_content(contract: Contract) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for mtype in contract.response_media_types:
        if contract.result == "int32":
            content[mtype] = {"schema": dict(INT32)}
        elif media.family(mtype) in {"json", "xml"}:
            content[mtype] = {"schema": {"type": "string", "format": "byte", "contentEncoding": "base64"}}
        else:
            content[mtype] = {"schema": {"type": "string", "contentMediaType": mtype}}
    return content


def _error_response(contract: Contract, status: int) -> dict[str, Any]:
    # Errors come in the negotiated format when it is JSON or XML, else as JSON.
    types = dict.fromkeys(
        ["application/json", *(m for m in contract.response_media_types if media.family(m) in {"json", "xml"})]
    )
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    response: dict[str, Any] = {
        "description": STATUS_TEXT.get(status, "An error in SuperOffice's error shape."),
        "content": {m: {"schema": ref} for m in types},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": "Basic realm=...", "schema": {"type": "string"}, "required": True}
        }
    return response


def _operation(contract: Contract) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": {"type": "string"}}
        for q in contract.query
    ]
    params += [
        {"name": h.name, "in": "header", "required": False, "description": h.description, "schema": {"type": "string"}}
        for h in contract.headers
        if h.name.lower() not in _NOT_PARAMETERS
    ]
    ref = {"$ref": f"#/components/schemas/{request_schema_name(contract)}"}
    success: dict[str, Any] = {"description": "No Content" if contract.result == "none" else "OK"}
    if contract.result != "none":
        success["content"] = _result_content(contract)
    responses: dict[str, Any] = {str(contract.response_status): success}
    for status in error_statuses(contract):
        responses[str(status)] = _error_response(contract, status)
    description = contract.description
    if contract.slow_threshold_ms:
        description = f"{description}\n\nNsApiSlow threshold: {contract.slow_threshold_ms} ms.".strip()
    return {
        "tags": [f"{contract.agent}_Agent"],
        "summary": contract.summary,
        "description": description,
        "operationId": contract.operation_id,
        "parameters": params,
        "requestBody": {
            "description": ", ".join(p.name for p in contract.properties),
            "required": True,
            "content": {m: {"schema": ref} for m in contract.request_media_types},
        },
        "responses": responses,
    }


def _error_schema() -> dict[str, Any]:
    text = {"type": "string"}
    violation = {
        "type": "object",
        "required": ["location", "expected", "got", "message"],
        "properties": {"location": text, "expected": text, "got": text, "message": text},
    }
    return {
        "description": "SuperOffice's error body; Violations is the fake's addition.",
        "type": "object",
        "required": ["Error", "ErrorType", "Message", "ErrorSource"],
        "properties": {
            "Error": {"type": "boolean", "const": True},
            "ErrorType": text,
            "Message": text,
            "ErrorSource": text,
            "Violations": {"type": "array", "items": violation},
        },
    }


def build_document(contracts: ContractSet, server_url: str | None = None) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document for `contracts`."""
    schemas: dict[str, Any] = {request_schema_name(c): _request_schema(c) for c in contracts}
    schemas[ERROR_SCHEMA] = _error_schema()
    agents = sorted({c.agent for c in contracts})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SuperOffice Agent API v1 (mockserver)",
            "version": "v1-Agents",
            "description": "Generated from mockserver's contracts: " + ", ".join(c.name for c in contracts) + ".",
        },
        "servers": [{"url": server_url or "http://127.0.0.1:8080"}],
        "tags": [{"name": f"{a}_Agent"} for a in agents],
        "security": [{name: []} for name in SECURITY_SCHEMES],
        "paths": {c.path: {c.method.lower(): _operation(c)} for c in contracts},
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def add_parser(sub: Any) -> None:
    p = command_parser(sub, "openapi")
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")
    p.add_argument("--contracts", type=Path, help="contract file or folder (default: the packaged contracts)")
    p.add_argument(
        "--server-url", dest="server_url", help="servers[0].url, without /api/v1 (default http://127.0.0.1:8080)"
    )


def cmd_openapi(args: argparse.Namespace) -> int:
    document = build_document(load_contracts(args.contracts), args.server_url)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(document['paths'])} operations)", file=sys.stderr)
    return 0
