"""A contract-testing fake of SuperOffice WebAPI's BLOB agent (SaveImageStream)."""

from .config import Settings
from .contract import Contract, ContractSet, load_contract, load_contracts
from .errors import ApiError, ConfigError, ContractError, MockServerError, Violation
from .fake import Fake, Outcome, RawRequest
from .images import ImageInfo
from .journal import AuthInfo, CallList, CallLog, CallRecord, Locale
from .server import FakeServer, ThreadedFakeServer

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
    "RawRequest",
    "Settings",
    "ThreadedFakeServer",
    "Violation",
    "load_contract",
    "load_contracts",
]
