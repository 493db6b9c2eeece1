"""The /_calls page for people: a table of calls, newest first, with image thumbnails.

Everything a client sent is HTML-escaped; long values wrap so the page never scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlencode

from ..core.vocabulary.records import CallRecord

CUT = 300
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1rem;color:#1c1c1c;background:#fff}
h1{font-size:1.3rem;margin:0 0 .3rem}
p.summary{margin:0 0 .8rem;color:#555}
p.summary a{margin-left:.6rem}
table{width:100%;border-collapse:collapse;table-layout:fixed}
th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;
  overflow-wrap:anywhere;word-break:break-word}
th{background:#f3f3f3;font-weight:600}
col.seq{width:5.5rem}col.img{width:7.5rem}col.auth{width:13%}col.req{width:24%}col.body{width:22%}
tr.rejected{background:#fdecea}
tr.rejected td.outcome{color:#a1160b}
td.outcome b{display:block}
.warn{color:#8a5a00}
.muted{color:#777}
code{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
img.thumb{display:block;max-width:100%;max-height:96px;image-rendering:pixelated;background:
  repeating-conic-gradient(#eee 0 25%,#fff 0 50%) 0 0/12px 12px;border:1px solid #ccc;min-width:24px;min-height:24px}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _cut(text: str) -> str:
    # The page is an overview; /_calls/{seq} has every value in full.
    return text if len(text) <= CUT else text[:CUT] + f"… ({len(text)} characters)"


def _url(path: str, token: str | None, **params: str) -> str:
    query = {**params, **({"token": token} if token else {})}
    return path + ("?" + urlencode(query) if query else "")


def _time(record: CallRecord) -> tuple[str, str]:
    moment = datetime.fromtimestamp(record.time, UTC)
    return moment.strftime("%H:%M:%S.%f")[:-3], moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_cell(r: CallRecord) -> str:
    parts = [f"<code>{_e(r.method)} {_e(r.path)}</code>"]
    if r.prefix.strip("/"):
        parts.append(f'<div class="muted tenant">tenant {_e(r.prefix.strip("/"))}</div>')
    if r.query:
        shown = "&".join(f"{k}={v}" for k, v in r.query)
        parts.append(f'<div class="muted"><code>?{_e(_cut(shown))}</code></div>')
    if r.content_type:
        parts.append(f'<div class="muted">{_e(r.content_type)}</div>')
    return "".join(parts)


def _body_cell(r: CallRecord) -> str:
    rows = []
    for key, value in r.request.items():
        if key == "Image" or value is None:
            continue
        rows.append(f"<div><b>{_e(key)}</b> {_e(_cut(value if isinstance(value, str) else repr(value)))}</div>")
    info = r.image
    if info is not None:
        rows.append(
            f'<div class="muted">{info.size} bytes {_e(info.format or "unrecognised")}, '
            f"sha256 <code>{_e(info.sha256[:16])}…</code></div>"
        )
    return "".join(rows) or '<span class="muted">no body</span>'


def _image_cell(r: CallRecord, view: View, token: str | None) -> str:
    if r.blob_id is None or not view.has_image(r):
        return ""
    src = _e(_url(f"{view.base(r)}/_images/{r.blob_id}", token))
    return f'<a href="{src}"><img class="thumb" src="{src}" alt="blob {r.blob_id}" data-blob-id="{r.blob_id}"></a>'


def _auth_cell(r: CallRecord) -> str:
    if r.auth.scheme is None:
        who = '<span class="muted">no credentials</span>'
    else:
        who = _e(r.auth.scheme) + (f" {_e(r.auth.principal)}" if r.auth.principal else "")
    lang = r.locale.language
    return who + (f'<div class="muted">language {_e(lang)}</div>' if lang else "")


def _outcome_cell(r: CallRecord) -> str:
    if r.accepted:
        head = f"<b>{r.status}</b>" + (f"blob id {r.blob_id}" if r.blob_id is not None else "")
    else:
        head = f"<b>{r.status} rejected</b>"
        if r.violations:
            head += _e(r.violations[0].message)
            if len(r.violations) > 1:
                head += f' <span class="muted">(+{len(r.violations) - 1} more)</span>'
    warnings = "".join(f'<div class="warn">warning: {_e(w.message)}</div>' for w in r.warnings)
    return head + warnings


def _row(r: CallRecord, view: View, token: str | None) -> str:
    short, full = _time(r)
    seq_link = _e(_url(f"{view.base(r)}/_calls/{r.seq}", token))
    return (
        f'<tr class="call {r.outcome}" data-seq="{r.seq}" data-status="{r.status}">'
        f'<td><a href="{seq_link}">{_e(view.ref(r))}</a><div class="muted" title="{_e(full)}">{_e(short)}</div></td>'
        f"<td>{_request_cell(r)}</td><td>{_body_cell(r)}</td>"
        f"<td>{_image_cell(r, view, token)}</td><td>{_auth_cell(r)}</td>"
        f'<td class="outcome">{_outcome_cell(r)}</td></tr>'
    )


@dataclass(frozen=True, slots=True)
class View:
    """Where a record's own routes are (``""``, or ``/Cust1`` for an isolated tenant) and whether its image is kept."""

    base: Callable[[CallRecord], str]
    has_image: Callable[[CallRecord], bool]
    ref: Callable[[CallRecord], str] = lambda r: f"#{r.seq}"  # `Cust2#1` where tenants mix


def render_calls(
    calls: Sequence[CallRecord],
    dropped: int,
    view: View,
    token: str | None,
    query: Mapping[str, str],
) -> str:
    """Render `calls` (oldest first, as the journal keeps them) as a page, newest first."""
    shown = f"{len(calls)} call{'s' if len(calls) != 1 else ''} shown, newest first"
    if dropped:
        shown += f"; {dropped} older call{'s' if dropped != 1 else ''} dropped (journal limit)"
    links = "".join(
        f'<a href="{_e(_url("/_calls", token, **params))}">{label}</a>'
        for label, params in (("all", {}), ("rejected only", {"outcome": "rejected"}))
    )
    active = ", ".join(f"{k}={v}" for k, v in query.items() if k != "token")
    if active:
        shown += f" (filter: {_e(active)})"
    rows = "".join(_row(r, view, token) for r in reversed(calls))
    if not rows:
        rows = '<tr class="empty"><td colspan="6" class="muted">No calls yet.</td></tr>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>mockserver calls</title><style>{STYLE}</style></head><body>"
        f'<h1>mockserver calls</h1><p class="summary">{shown}.{links}</p>'
        '<table><colgroup><col class="seq"><col class="req"><col class="body"><col class="img">'
        '<col class="auth"><col class="outcome"></colgroup>'
        "<thead><tr><th>#</th><th>Request</th><th>Body</th><th>Image</th><th>Auth</th><th>Outcome</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )
