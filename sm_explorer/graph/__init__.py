"""The graph model of a SavedModel, without TensorFlow: nodes, tensors, calls,
variables, name scopes, flattening and pruning.

    from sm_explorer import graph
    g = graph.graph_of(model)                   # the outer graph
    f = graph.flatten(model, "serving_default")  # one graph, calls inlined
    p = f.prune(["image:0"], "Identity:0")       # what the fetches need
    p.graph_def(variables="constants")           # a self-contained GraphDef
"""

from __future__ import annotations

from sm_explorer.graph.api import (
    flatten,
    function_graph,
    graph_from_graph_def,
    graph_of,
    library_of,
    prune,
    prune_concrete_function,
    prune_signature,
    signature_function,
)
from sm_explorer.graph.categories import CATEGORIES, category
from sm_explorer.graph.errors import PruneError
from sm_explorer.graph.graph import Graph, UnknownNameError, parse_tensor_name
from sm_explorer.graph.library import Library
from sm_explorer.graph.nodes import Binding, CallSite, Node, Origin, Tensor, TensorRef
from sm_explorer.graph.prune import PrunedFunction
from sm_explorer.graph.scopes import Scope

__all__ = [
    "graph_of", "function_graph", "flatten", "graph_from_graph_def", "library_of",
    "prune", "prune_signature", "prune_concrete_function", "signature_function",
    "Graph", "Node", "TensorRef", "Tensor", "Origin", "CallSite", "Binding", "Scope", "Library",
    "PrunedFunction", "PruneError", "UnknownNameError", "CATEGORIES", "category", "parse_tensor_name",
]
