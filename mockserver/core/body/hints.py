"""Hints for the mistakes clients make most: a JSON or XML body sent under a form Content-Type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from mockserver.core.vocabulary.errors import Violation

FORM_HINT = (
    "the body looks like {kind} sent as application/x-www-form-urlencoded (curl -d's default): "
    "send Content-Type: {ctype}"
)


def explain_misfiled(family: str, pairs: Sequence[tuple[str, Any]], violations: list[Violation]) -> list[Violation]:
    """Add the hint to the first violation when a form body is really JSON or XML; else return them as they are."""
    if family != "form" or not violations or not pairs:
        return violations
    first_key = str(pairs[0][0]).lstrip()
    if first_key.startswith(("{", "[")):
        hint = FORM_HINT.format(kind="JSON", ctype="application/json")
    elif first_key.startswith("<"):
        hint = FORM_HINT.format(kind="XML", ctype="application/xml")
    else:
        return violations
    return [replace(violations[0], got=f"{violations[0].got}; {hint}"), *violations[1:]]
