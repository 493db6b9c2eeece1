"""What a failed assertion says: the expected fields, the closest calls, each field that differed.

The text and the data (`NearMiss`) are made together, so `POST /_assert` answers with the
very text an `AssertionError` in Python carries, and the same calls as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.core.vocabulary.images import ImageInfo
from mockserver.core.vocabulary.journal import CallList
from mockserver.core.vocabulary.records import CallRecord

CLOSEST = 3  # how many near misses a failure message shows


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A call a failed assertion names: its seq, its line, and each field that differed (field, expected, got)."""

    seq: int
    call: str
    differences: tuple[tuple[str, str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "call": self.call,
            "differences": [{"field": f, "expected": e, "got": g} for f, e, g in self.differences],
        }


class ExpectationFailed(AssertionError):
    """An assertion of a fake that did not hold: the message, and the calls it names as data."""

    def __init__(self, message: str, near_misses: tuple[NearMiss, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.near_misses = near_misses


@dataclass(frozen=True, slots=True)
class Field:
    """One expectation of assert_saved: a name, how to show it, and how to read a record."""

    name: str
    shown: str
    read: Callable[[CallRecord], str]
    matches: Callable[[CallRecord], bool]


def _text(value: object) -> str:
    return "none" if value is None else repr(value)


def _image_text(info: ImageInfo | None) -> str:
    if info is None:
        return "no image"
    return f"{info.size} bytes, {info.format or 'unrecognised format'}, sha256 {info.sha256[:12]}…"


def _outcome_text(record: CallRecord) -> str:
    if record.accepted:
        return f"accepted ({record.status})"
    first = record.violations[0].message if record.violations else "no violations listed"
    return f"rejected ({record.status}: {first})"


def call_line(record: CallRecord) -> str:
    """One line naming a call: ``#2 POST /api/v1/… -> 200 blob id 34``."""
    result = f"blob id {record.blob_id}" if record.blob_id is not None else record.outcome
    return f"#{record.seq} {record.method} {record.path} -> {record.status} {result}"


def expectations(
    type: str | None, description: str | None, image: bytes | None, blob_id: int | None, image_sha256: str | None = None
) -> list[Field]:
    fields = [Field("outcome", "accepted", _outcome_text, lambda r: r.accepted)]
    if type is not None:
        fields.append(
            Field("Type", repr(type), lambda r: _text(r.type), lambda r: (r.type or "").lower() == type.lower())
        )
    if description is not None:
        fields.append(
            Field(
                "Description", repr(description), lambda r: _text(r.description), lambda r: r.description == description
            )
        )
    if image is not None:
        want = ImageInfo.of(image)
        fields.append(
            Field(
                "Image",
                _image_text(want),
                lambda r: _image_text(r.image),
                lambda r: r.image is not None and r.image.sha256 == want.sha256,
            )
        )
    if image_sha256 is not None:
        digest = image_sha256.lower()
        fields.append(
            Field(
                "Image",
                f"sha256 {digest[:12]}…",
                lambda r: _image_text(r.image),
                lambda r: r.image is not None and r.image.sha256 == digest,
            )
        )
    if blob_id is not None:
        fields.append(Field("blob_id", str(blob_id), lambda r: _text(r.blob_id), lambda r: r.blob_id == blob_id))
    return fields


def near_misses(calls: CallList, fields: list[Field]) -> tuple[str, tuple[NearMiss, ...]]:
    """The closest calls as text and as data, the text made from the data."""
    if not calls:
        return "No calls were recorded.", ()
    scored = [(sum(not f.matches(r) for f in fields), -r.seq, r) for r in calls]
    scored.sort(key=lambda item: (item[0], item[1]))
    misses = tuple(
        NearMiss(
            record.seq,
            call_line(record),
            tuple((f.name, f.shown, f.read(record)) for f in fields if not f.matches(record)),
        )
        for _, _, record in scored[:CLOSEST]
    )
    lines = [f"{len(calls)} call(s) recorded; the closest:"]
    for miss in misses:
        lines.append(f"  {miss.call}")
        lines.extend(f"      {name}: expected {shown}, got {got}" for name, shown, got in miss.differences)
    if len(calls) > CLOSEST:
        lines.append(f"  … and {len(calls) - CLOSEST} more (fake.calls has them all)")
    return "\n".join(lines), misses


def listed(records: CallList, kind: str) -> tuple[NearMiss, ...]:
    """The calls a listing names, as data: each violation or warning a difference from none."""
    return tuple(
        NearMiss(r.seq, call_line(r), tuple((v.location, "none", v.message) for v in getattr(r, kind))) for r in records
    )


def listing(head: str, records: CallList, kind: str, when_none: str | None = None) -> str:
    """One line per call, then its violations or warnings, indented under it."""
    lines = [head]
    for record in records:
        found = getattr(record, kind)
        lines.append(f"  {call_line(record)}")
        lines.extend(f"      {v.message}" for v in found)
        if not found and when_none:
            lines.append(when_none)
    return "\n".join(lines)
