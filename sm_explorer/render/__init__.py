"""Rendering: turning core data into text, tables and pictures.

``view_for(model, signature=...)`` picks a ``GraphView`` or ``ObjectGraphView``;
every view gives ``to_dot()``, ``to_svg()`` and ``save(path)``.
``variables_frame(model)`` is the variables as a pandas DataFrame with statistics.
"""

from sm_explorer.render.dot import DotUnavailableError
from sm_explorer.render.graph_view import GraphView, Highlight
from sm_explorer.render.objects_view import ObjectGraphView
from sm_explorer.render.text import show_text, variables_text
from sm_explorer.render.variable_frame import variables_frame
from sm_explorer.render.view_base import View
from sm_explorer.render.view_for import view_for

__all__ = [
    "view_for", "View", "GraphView", "Highlight", "ObjectGraphView", "variables_frame",
    "show_text", "variables_text", "DotUnavailableError",
]
