"""What a call record keeps of the request body and the result: images as ImageInfo, never bytes."""

from __future__ import annotations

from typing import Any

from mockserver.core.body.binding import Binding
from mockserver.core.vocabulary.images import ImageInfo


def summarise(binding: Binding | None) -> dict[str, Any]:
    if binding is None:
        return {}
    out: dict[str, Any] = {}
    for name, value in binding.values.items():
        out[name] = binding.images[name] if isinstance(value, bytes) and name in binding.images else value
    return out


def loggable_result(value: Any) -> Any:
    if isinstance(value, bytes):
        return ImageInfo.of(value).to_json()
    if isinstance(value, dict):
        return None  # a GET description: not worth keeping per call
    return value
