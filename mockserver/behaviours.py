"""What each agent call does to the fake's state, once its request has been validated.

A contract names its behaviour (``behaviour = "save_image"``). A behaviour takes the state
and the bound values and returns the result; it raises `ApiError` for requests that are
well-formed but refer to something that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contract import Contract
    from .state import State
    from .validation import Binding


@dataclass(frozen=True, slots=True)
class Result:
    """What a behaviour produced: the value to encode and the blob id it concerns."""

    value: Any
    blob_id: int | None = None


Behaviour = Callable[["State", "Contract", "Binding"], Result]
BEHAVIOURS: dict[str, Behaviour] = {}


def behaviour(name: str) -> Callable[[Behaviour], Behaviour]:
    """Register a behaviour function under `name`."""

    def register(fn: Behaviour) -> Behaviour:
        BEHAVIOURS[name] = fn
        return fn

    return register


@behaviour("save_image")
def save_image(state: State, contract: Contract, bound: Binding) -> Result:
    """Store the image under the next blob id and answer that id."""
    values = bound.values
    blob_id = state.ids.take()
    state.images.put(blob_id, values.get("Image", b""), values.get("Type"), values.get("Description"), bound.images.get("Image"))
    return Result(blob_id, blob_id)
