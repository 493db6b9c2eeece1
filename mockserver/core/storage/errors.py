"""What the storage can say went wrong: an image whose bytes were evicted, a damaged state file.

Both are distinct from "never stored": an evicted image was saved (its id, hash, size and type
are still known) but the image budget made room for newer ones; a damaged state file is not
the fake's bug but a file to move away.
"""

from __future__ import annotations

from pathlib import Path

from mockserver.core.vocabulary.errors import ApiError, ConfigError, Violation

DEFAULT_IMAGE_BUDGET = 512 * 1024 * 1024
EVICTED_ERROR_TYPE = "ImageEvictedException"
DAMAGED_ERROR_TYPE = "StateFileDamagedException"
DAMAGED_STATUS = 503
UNWRITABLE_ERROR_TYPE = "StateFileWriteFailedException"
UNAVAILABLE_ERROR_TYPE = "StateFileUnavailableException"


def format_size(size: int) -> str:
    """``536870912`` → ``512 MiB``; whole units when they fit, one decimal otherwise."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if size % scale == 0 else f"{value:.1f} {unit}"
    return f"{size} bytes"


def eviction_text(blob_id: int, budget: int) -> str:
    if budget:
        return f"blob id {blob_id} was evicted (image budget {format_size(budget)})"
    return f"blob id {blob_id} was evicted (under the image budget of an earlier run; the budget is now unlimited)"


class ImageEvicted(KeyError):
    """``fake.images[id]`` for an image that was stored but whose bytes the image budget dropped.

    A KeyError, so code that asks ``id in fake.images`` or catches KeyError keeps working;
    ``entry(id)`` still answers its hash, size, format, type and description.
    """

    def __init__(self, blob_id: int, budget: int) -> None:
        self.blob_id, self.budget = blob_id, budget
        super().__init__(eviction_text(blob_id, budget))

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def evicted_error(blob_id: int, budget: int, location: str) -> ApiError:
    """410 Gone in SuperOffice's error shape: the id was issued, the bytes are no longer kept."""
    text = eviction_text(blob_id, budget)
    return ApiError(
        410,
        [Violation(location, "the id of an image whose bytes the fake still holds", f"{blob_id} (evicted)")],
        error_type=EVICTED_ERROR_TYPE,
        message=(
            f"The {text}: the fake keeps the bytes of the newest images within its budget and only the "
            "metadata of older ones. Raise --image-budget (MOCKSERVER_IMAGE_BUDGET; 0 = unlimited) to keep more."
        ),
    )


class StateFileDamaged(ApiError, ConfigError):
    """The state file is damaged: at start-up a configuration error, while serving a 503.

    Raised by the storage for SQLite's "malformed"/"not a database" errors, for a failed
    ``PRAGMA quick_check`` at open, and for image data whose SHA-256 no longer matches.
    Once raised, the store refuses every later read and write with the same error.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(
            DAMAGED_STATUS,
            [Violation("state", "an intact state file", f"{path}: {reason}")],
            error_type=DAMAGED_ERROR_TYPE,
            message=f"state file {path} is damaged: {reason}; move it away to start fresh",
        )


class NotAStateFile(ConfigError):
    """The file named as a state file was not made by the fake: refused before anything in it is touched."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(
            f"{path} is not a mockserver state file ({reason}); the fake never writes to a file it did not "
            "create: give --state a new file name"
        )


class StateWriteFailed(ApiError):
    """A write to the state file failed (disk full, an I/O error): the call's changes were rolled back.

    A 503: nothing the client sent is wrong, and nothing of the call was kept; its id goes to the
    next save that is stored.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(
            DAMAGED_STATUS,
            [Violation("state", "a state file that can store this call", f"{path}: {reason}")],
            error_type=UNWRITABLE_ERROR_TYPE,
            message=f"state file {path} could not store this call ({reason}); nothing of it was kept. "
            "Free space on its file system, or lower --image-budget, and send it again",
        )


class StateUnavailable(ApiError, ConfigError):
    """A tenant's state file could not be opened: at start-up a configuration error, while serving a 503."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(
            DAMAGED_STATUS,
            [Violation("state", "a state file the fake can open", f"{path}: {reason}")],
            error_type=UNAVAILABLE_ERROR_TYPE,
            message=f"state file {path} cannot be opened: {reason}",
        )


__all__ = [
    "DEFAULT_IMAGE_BUDGET",
    "ImageEvicted",
    "NotAStateFile",
    "StateFileDamaged",
    "StateUnavailable",
    "StateWriteFailed",
    "evicted_error",
    "eviction_text",
    "format_size",
]
