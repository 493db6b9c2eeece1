"""What each agent call does to the fake's state, once its request has been validated.

A contract names its behaviour (``behaviour = "save_image"``). A behaviour takes the state
and the bound values and returns the result; it raises `ApiError` for requests that are
well-formed but refer to something that does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockserver.core.storage.errors import evicted_error
from mockserver.core.vocabulary.errors import ApiError, Violation

if TYPE_CHECKING:
    from mockserver.core.body.binding import Binding
    from mockserver.core.storage.state import State
    from mockserver.core.vocabulary.contract import Contract


@dataclass(frozen=True, slots=True)
class Result:
    """What a behaviour produced: the value to encode and the blob id it concerns."""

    value: Any
    blob_id: int | None = None


Behaviour = Callable[["State", "Contract", "Binding"], Result]
BEHAVIOURS: dict[str, Behaviour] = {}
# Error statuses a behaviour itself can answer, beyond the pipeline's (for export and coverage).
BEHAVIOUR_ERRORS: dict[str, tuple[int, ...]] = {}


def behaviour(name: str, *, errors: tuple[int, ...] = ()) -> Callable[[Behaviour], Behaviour]:
    """Register a behaviour function under `name`; references are checked before it runs."""

    def register(fn: Behaviour) -> Behaviour:
        @functools.wraps(fn)
        def run(state: State, contract: Contract, bound: Binding) -> Result:
            check_references(state, contract, bound)
            return fn(state, contract, bound)

        BEHAVIOURS[name] = run
        BEHAVIOUR_ERRORS[name] = errors
        return fn

    return register


def check_references(state: State, contract: Contract, bound: Binding) -> None:
    """Answer 400 when a property marked ``must_exist = "blob"`` names a blob the fake never stored.

    0 is SuperOffice's "no blob" id (ChangeProjectImage: "If the Binary object id is 0, any
    image link is removed"), so it always passes.
    """
    problems = []
    for prop in contract.properties:
        if prop.must_exist != "blob":
            continue
        value = bound.values.get(prop.name)
        if isinstance(value, int) and value != 0 and state.images.entry(value) is None:
            problems.append(Violation(f"body.{prop.name}", "an id the fake issued", str(value)))
    if problems:
        known = ", ".join(map(str, list(state.images)[:10])) or "none yet"
        text = "; ".join(v.message for v in problems)
        raise ApiError(400, problems, message=f"{text}. Blob ids stored so far: {known}.")


@behaviour("save_image", errors=(507,))
def save_image(state: State, contract: Contract, bound: Binding) -> Result:
    """Store the image under the next blob id and answer that id."""
    values = bound.values
    blob_id = state.ids.take()
    state.images.put(
        blob_id, values.get("Image", b""), values.get("Type"), values.get("Description"), bound.images.get("Image")
    )
    return Result(value=blob_id, blob_id=blob_id)


@behaviour("attach_image")
def attach_image(state: State, contract: Contract, bound: Binding) -> Result:
    """Link a stored blob to the entity named by the contract's first property; blob 0 unlinks.

    ``ChangePersonImage {PersonId, BlobId}`` records under ``state.attachments["person"]``.
    """
    key_prop, blob_prop = contract.properties[0], next(p for p in contract.properties if p.must_exist == "blob")
    kind = key_prop.name.removesuffix("Id").lower()
    key, blob_id = bound.values[key_prop.name], bound.values[blob_prop.name]
    if blob_id == 0:
        state.attachments.get(kind, {}).pop(key, None)
    else:
        state.attach(kind, key, blob_id)
    return Result(None, blob_id)


@behaviour("get_blob", errors=(404, 410))
def get_blob(state: State, contract: Contract, bound: Binding) -> Result:
    """Answer the stored bytes; an id never stored is SuperOffice's 404 SoNotFoundException.

    An id whose bytes the image budget evicted is 410 Gone: the blob exists, the fake no longer
    holds its bytes, and it must not pretend otherwise (empty bytes) or that it never existed (404).
    """
    prop = contract.properties[0]
    blob_id = bound.values[prop.name]
    entry = state.images.entry(blob_id)
    if entry is None:
        raise ApiError(
            404,
            [Violation(f"body.{prop.name}", "the id of a stored blob", str(blob_id))],
            message=f"No BlobEntity with id {blob_id} exists.",
        )
    if entry.data is None:
        raise evicted_error(blob_id, state.images.budget, f"body.{prop.name}")
    return Result(entry.data, blob_id)
