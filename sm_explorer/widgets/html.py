"""Small HTML helpers for panes. Every name from a model goes through ``esc``."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["esc", "table", "message", "STYLE"]

STYLE = """
<style>
.smx-table { border-collapse: collapse; font-size: 12px; }
.smx-table th, .smx-table td { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; }
.smx-table th { background: #f3f3f3; }
.smx-msg { padding: 6px 10px; border-radius: 4px; margin: 4px 0; }
.smx-error { background: #fdecea; color: #8a1c1c; }
.smx-info { background: #eef4fb; color: #1c3d6e; }
.smx-muted { color: #777; }
</style>
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def table(header: Sequence[str], rows: Iterable[Sequence[object]], limit: int = 500) -> str:
    """An HTML table; cells are escaped; at most ``limit`` rows are shown."""
    out = ['<table class="smx-table"><tr>' + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"]
    count = 0
    for row in rows:
        count += 1
        if count <= limit:
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    if count > limit:
        out.append(f'<div class="smx-muted">{count - limit} more rows not shown</div>')
    return "".join(out)


def message(text: str, kind: str = "info") -> str:
    return f'<div class="smx-msg smx-{kind}">{esc(text)}</div>'
