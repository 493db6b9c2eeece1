"""The one table every benchmark reports into: a Markdown table that reads well in a terminal too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = ("benchmark", "fake", "baseline", "ratio", "target", "met")


@dataclass(frozen=True)
class Row:
    """One measured quantity; `met` is None where there is no target to meet."""

    name: str
    fake: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None

    def cells(self) -> tuple[str, ...]:
        verdict = "" if self.met is None else ("yes" if self.met else "NO")
        return (self.name, self.fake, self.baseline, self.ratio, self.target, verdict)


def fmt_num(value: float, digits: int = 0) -> str:
    """12345.6 -> '12,346'; NaN -> 'n/a'."""
    if value != value:  # NaN
        return "n/a"
    return f"{value:,.{digits}f}"


def fmt_bytes(value: float) -> str:
    for unit, scale in (("MiB", 1024**2), ("KiB", 1024)):
        if abs(value) >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value:,.0f} B"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


def format_table(rows: list[Row]) -> str:
    """Render rows as a pipe table with padded columns."""
    return format_grid(COLUMNS, [r.cells() for r in rows])


def format_grid(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Render a header and rows of cells as a pipe table with padded columns."""
    cells = [columns, *rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]

    def line(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(columns), rule, *(line(c) for c in rows)])
