"""Choosing a view: the one place that maps "what to draw" to a View."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sm_explorer.render.view_base import View

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["view_for"]


def view_for(model: SavedModel, *, signature: str | None = None, function: str | None = None,
             objects: bool = False, expand: Iterable[str] = (), show_all: bool = False,
             budget: int = 150, edge_labels: bool = False) -> View:
    """The object graph, a signature's flattened graph, a function body, or
    (by default) the MetaGraph's own graph."""
    if objects:
        from sm_explorer.render.objects_view import ObjectGraphView

        return ObjectGraphView(model)
    from sm_explorer import graph
    from sm_explorer.render.graph_view import GraphView

    if signature is not None:
        g = graph.flatten(model, signature)
    elif function is not None:
        g = graph.function_graph(model, function)
    else:
        g = graph.graph_of(model)
    return GraphView(g, budget=budget, show_all=show_all, expanded=expand, edge_labels=edge_labels)
