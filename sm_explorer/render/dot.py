"""DOT building blocks: safe identifiers, escaped labels, and running ``dot``.

Graph names come from files we do not trust, so they never become DOT
identifiers: every node gets a generated id ("n12") and its name only
appears inside quoted, escaped labels and tooltips. That also keeps a tensor
name like ``x:0`` from being read as a graphviz port.
"""

from __future__ import annotations

import shutil
import subprocess

from sm_explorer.errors import SavedModelError

__all__ = ["quote", "label_text", "DotUnavailableError", "run_dot", "FORMATS", "INSTALL_HINT"]

MAX_LABEL = 60
FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = (
    "Graphviz's `dot` program is needed to lay out graphs: install it with "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install graphviz`; DOT export (`--format dot`, `view.to_dot()`) works without it"
)


class DotUnavailableError(SavedModelError):
    """Graphviz's ``dot`` is not installed (or failed)."""


def quote(text: str) -> str:
    """A DOT double-quoted string. Backslashes and quotes are escaped; a newline
    becomes DOT's line break; other control characters become spaces."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    lines = ["".join(ch if ch.isprintable() else " " for ch in line) for line in escaped.split("\n")]
    return '"' + "\\n".join(lines) + '"'


def label_text(text: str, limit: int = MAX_LABEL) -> str:
    """Shorten a long name for a label, keeping its end (the most specific part)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def run_dot(source: str, fmt: str, timeout: float = 60.0) -> bytes:
    """Lay out DOT ``source`` with graphviz's ``dot`` into ``fmt`` bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    if fmt == "dot":
        return source.encode("utf-8")
    exe = shutil.which("dot")
    if exe is None:
        raise DotUnavailableError(INSTALL_HINT)
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise DotUnavailableError(f"dot took more than {timeout:.0f} s; collapse more scopes") from None
    if done.returncode != 0:
        raise DotUnavailableError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return done.stdout
