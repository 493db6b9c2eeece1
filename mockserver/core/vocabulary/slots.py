"""Hot-path helpers: fast constructors for the frozen, slotted dataclasses built on every call, and bounded caches.

A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__``
(its own ``__setattr__`` refuses). Setting the slots through their member descriptors does the
same in about half the time: 0.8 vs 1.5 us for the 21 fields of a CallRecord.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def slots_constructor(cls: type[T]) -> Callable[..., T]:
    """Return ``make(*values)``: an instance of the frozen, slotted dataclass `cls` from every field, in order.

    No defaults and no ``__post_init__``: callers pass every field, positionally.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    setters = {f"_set_{n}": getattr(cls, n).__set__ for n in names}
    body = "".join(f"    _set_{n}(r, {n})\n" for n in names) or "    pass\n"
    source = f"def make({', '.join(names)}):\n    r = _new(_cls)\n{body}    return r\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **setters}
    exec(source, namespace)
    make: Callable[..., T] = namespace["make"]
    make.__qualname__ = make.__name__ = f"new_{cls.__name__}"
    make.__doc__ = f"Build a {cls.__name__} from every field, positionally in field order."
    return make


def drop_oldest(cache: dict[Any, Any]) -> None:
    """Forget a bounded cache's oldest entry. Big bodies are processed on worker threads, so another
    thread may change the dict meanwhile: losing that race only means nothing is dropped this time."""
    with contextlib.suppress(RuntimeError, StopIteration, KeyError):
        cache.pop(next(iter(cache)))
