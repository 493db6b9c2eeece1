"""The documented tenant states of SuperOffice Online, and reading a context identifier or a state name.

The names, numbers and what "APIs are not available" means come from the tenant status API's
documentation; 7 and 9 are not documented.
"""

from __future__ import annotations

import re

from mockserver.core.vocabulary.errors import ApiError, Violation, preview

# The rule of core/tenants.TENANT_NAME (a tenant is one path segment, file-safe), which sits above
# this wing; tests/core/test_online_life.py checks the two agree.
CONTEXT_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

# The documented names and numbers (7 and 9 are not documented).
STATE_NUMBERS = {
    "Unknown": 0,
    "Provisioning": 1,
    "Running": 2,
    "Deleted": 3,
    "Suspended": 4,
    "OnlineMaintenance": 5,
    "OfflineMaintenance": 6,
    "ProvisioningFailed": 8,
    "Deleting": 10,
    "DeleteFailed": 11,
    "MigrationPending": 12,
}
STATES = tuple(STATE_NUMBERS)
# IsRunning is true for these two only; the fake's API answers in these two only.
RUNNING_STATES = frozenset({"Running", "OnlineMaintenance"})
# Retry-After of a 503 for a state without an end in sight ("usually takes minutes").
DEFAULT_RETRY_AFTER = 60
VERSION_LABEL = "Release_11.10_2026.02.24-02"
WRONG_SUBDOMAIN = "Wrong subdomain used to access tenant"


def context_identifier(given: str, where: str = "path.ContextIdentifier") -> str:
    """`given` if it is a tenant name the fake can hold; a 400 naming it otherwise."""
    if not CONTEXT_IDENTIFIER.fullmatch(given):
        raise ApiError(
            400,
            [
                Violation(
                    where, "a context identifier of letters, digits, '.', '_' or '-' (as Cust12345)", preview(given, 40)
                )
            ],
            message=f"{preview(given, 40)} is not a context identifier (as Cust12345).",
        )
    return given


def state_name(given: object, where: str = "body.state") -> str:
    """One of the documented state names (matched without regard to case); a 400 naming the known ones otherwise."""
    if isinstance(given, str):
        for name in STATES:
            if name.lower() == given.strip().lower():
                return name
    raise ApiError(
        400,
        [Violation(where, f"one of the states {', '.join(STATES)}", preview(given, 40))],
        message=f"{preview(given, 40)} is not a tenant state; the documented ones are {', '.join(STATES)}.",
    )


__all__ = [
    "CONTEXT_IDENTIFIER",
    "DEFAULT_RETRY_AFTER",
    "RUNNING_STATES",
    "STATES",
    "STATE_NUMBERS",
    "VERSION_LABEL",
    "WRONG_SUBDOMAIN",
    "context_identifier",
    "state_name",
]
