"""The /_drift page for people: each kind of drift the proxy saw, how often, and its first example."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import urlencode

from .page import STYLE


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _link(path: str, token: str | None) -> str:
    return _e(path + ("?" + urlencode({"token": token}) if token else ""))


def render_drift(summary: Mapping[str, Any], token: str | None) -> str:
    """Render what /_drift answers as JSON: a line of totals, then one row per kind."""
    rows = []
    for kind, seen in summary["kinds"].items():
        example = seen["example"]
        call = _link(f"/_calls/{example['seq']}", token)
        rows.append(
            f'<tr class="drift" data-kind="{_e(kind)}">'
            f'<td><b>{_e(kind)}</b><div class="muted">{_e(seen["meaning"])}</div></td>'
            f"<td>{seen['count']}</td>"
            f'<td><a href="{call}">#{example["seq"]}</a> '
            f"<code>{_e(example['method'])} {_e(example['path'])}</code>"
            f"<div><code>{_e(example['location'])}</code>: expected {_e(example['expected'])}, "
            f"got {_e(example['got'])}</div></td></tr>"
        )
    if not rows:
        rows.append('<tr class="empty"><td colspan="3" class="muted">No drift seen.</td></tr>')
    totals = (
        f"{summary['drift']} drift in {summary['exchanges_with_drift']} of {summary['exchanges']} exchanges "
        f"with {_e(summary['upstream'])}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>mockserver proxy drift</title><style>{STYLE}</style></head><body>"
        f'<h1>Drift from the contract</h1><p class="summary">{totals}.'
        f'<a href="{_link("/_calls", token)}">calls</a></p>'
        "<table><thead><tr><th>Kind</th><th>Count</th><th>First example</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></body></html>"
    )
