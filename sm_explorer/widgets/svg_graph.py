"""The custom front end: an anywidget that shows an SVG with pan, zoom and
clickable nodes. Its JavaScript ships as a static file in the package."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

__all__ = ["SvgGraph"]

STATIC = Path(__file__).resolve().parent / "static"


class SvgGraph(anywidget.AnyWidget):
    """``svg`` is what to show; ``selected`` is the DOT id of the clicked node."""

    _esm = STATIC / "graph.js"
    _css = STATIC / "graph.css"
    svg = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
