"""Assertions about how a client handles credentials that expire, read from a `CredentialBook`'s events.

What integrations get wrong: authenticating before every call, never authenticating again,
authenticating again without being told to, sending the same expired credential again and again.
Each check raises AssertionError with a message naming the calls (``#4 POST … -> 401 (…)``).
"""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.core.online.tickets import CredentialEvent

SHOWN = 10  # calls a message lists


def _listing(events: Sequence[CredentialEvent]) -> str:
    lines = [f"  {e.describe()}" for e in events[:SHOWN]]
    if len(events) > SHOWN:
        lines.append(f"  … and {len(events) - SHOWN} more")
    return "\n".join(lines) if lines else "  (none)"


def _story(events: Sequence[CredentialEvent]) -> str:
    return "What happened to credentials, in order:\n" + _listing(events)


def authentications(events: Sequence[CredentialEvent]) -> list[CredentialEvent]:
    """The successful logins (system user authentications and OAuth refreshes), oldest first."""
    return [e for e in events if e.kind == "authenticated"]


def check_authenticated(events: Sequence[CredentialEvent], times: int | None = None) -> int:
    """The number of successful logins; with `times`, fail unless it is exactly that many."""
    found = authentications(events)
    if times is None:
        if not found:
            raise AssertionError(
                "The client never authenticated (no successful system user login or refresh).\n" + _story(events)
            )
        return len(found)
    if len(found) != times:
        raise AssertionError(
            f"Expected the client to authenticate {times} time(s); it authenticated {len(found)} time(s):\n"
            + _listing(found)
            + "\n"
            + _story(events)
        )
    return len(found)


def check_reauthenticated_after_401(events: Sequence[CredentialEvent]) -> None:
    """Fail unless every login after the first followed an expired-credential answer, and every
    such answer was followed by a login before the next call with an issued credential."""
    seen_login = False
    told: CredentialEvent | None = None  # the last expired-credential answer not yet followed by a login
    for event in events:
        if event.kind == "authenticated":
            if seen_login and told is None:
                raise AssertionError(
                    f"The client authenticated again at {event.describe()} without an expired credential "
                    "answered since its last login: authenticate again only when a call is refused.\n" + _story(events)
                )
            seen_login, told = True, None
        elif event.kind == "expired":
            if told is not None:
                raise AssertionError(
                    f"After {told.describe()} the client called again at {event.describe()} with an expired "
                    "credential instead of authenticating again.\n" + _story(events)
                )
            told = event
        elif event.kind == "accepted" and told is not None:
            raise AssertionError(
                f"After {told.describe()} the client went on at {event.describe()} without authenticating again.\n"
                + _story(events)
            )
    if told is not None:
        raise AssertionError(f"The client never authenticated again after {told.describe()}.\n" + _story(events))
    if not any(e.kind == "expired" for e in events):
        raise AssertionError(
            "No call was refused for an expired credential, so nothing shows the client re-authenticates.\n"
            + _story(events)
        )


def check_no_expired_reuse(events: Sequence[CredentialEvent]) -> None:
    """Fail when one expired credential was sent (and refused) more than once."""
    by_label: dict[str, list[CredentialEvent]] = {}
    for event in events:
        if event.kind == "expired":
            by_label.setdefault(event.label, []).append(event)
    reused = {label: found for label, found in by_label.items() if len(found) > 1}
    if reused:
        label, found = next(iter(reused.items()))
        raise AssertionError(
            f"The client sent the expired {label} {len(found)} times:\n" + _listing(found) + "\n" + _story(events)
        )


CHECKS = ("authenticated", "reauthenticated_after_401", "no_expired_reuse")

__all__ = [
    "CHECKS",
    "authentications",
    "check_authenticated",
    "check_no_expired_reuse",
    "check_reauthenticated_after_401",
]
