"""A contract-testing fake of SuperOffice WebAPI's BLOB agent (SaveImageStream).

The public surface is what ``__all__`` lists. The pure core (`Fake`, the records, settings and
errors) loads at once; `FakeServer` and `ThreadedFakeServer` bring in aiohttp, so they load on
first use (PEP 562): ``import mockserver.core`` never imports aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core import VERSION
from .core.config import Settings
from .core.exchange import Outcome, RawRequest
from .core.fake import Fake
from .core.loader import load_contract, load_contracts
from .core.vocabulary.contract import Contract, ContractSet
from .core.vocabulary.errors import ApiError, ConfigError, ContractError, MockServerError, Violation
from .core.vocabulary.images import ImageInfo
from .core.vocabulary.journal import CallList, CallLog
from .core.vocabulary.records import AuthInfo, CallRecord, Locale

if TYPE_CHECKING:
    from .testing.proxy import ProxyServer
    from .testing.server import FakeServer, ThreadedFakeServer

__version__ = VERSION

# Loaded on first use: the module that defines them imports aiohttp.
_SERVED = {
    "FakeServer": "mockserver.testing.server",
    "ThreadedFakeServer": "mockserver.testing.server",
    "ProxyServer": "mockserver.testing.proxy",
}


def __getattr__(name: str) -> Any:
    module = _SERVED.get(name)
    if module is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ApiError",
    "AuthInfo",
    "CallList",
    "CallLog",
    "CallRecord",
    "ConfigError",
    "Contract",
    "ContractError",
    "ContractSet",
    "Fake",
    "FakeServer",
    "ImageInfo",
    "Locale",
    "MockServerError",
    "Outcome",
    "ProxyServer",
    "RawRequest",
    "Settings",
    "ThreadedFakeServer",
    "Violation",
    "__version__",
    "load_contract",
    "load_contracts",
]
