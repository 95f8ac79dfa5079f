"""What every graph of one model shares: its function library and op signatures.

A ``Library`` caches the graphs built from it, so asking for the same function
twice costs nothing. ``Library.of(model)`` shares one per SavedModel for as
long as something uses it (a graph, a session, the loaded model's context).
It also works without a model, from a bare GraphDef, which tests and tools use.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from sm_explorer._proto import graph_pb2
from sm_explorer.graph.opdefs import OpSignatures

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel
    from sm_explorer.graph.prune import PrunedFunction

__all__ = ["Library"]

# SavedModel -> its library, both held weakly: the library holds its model, so
# holding it strongly here would keep every model ever opened alive.
_SHARED: weakref.WeakKeyDictionary[SavedModel, weakref.ref[Library]] = weakref.WeakKeyDictionary()


class Library:
    """Functions by name, op output signatures, the outer graph, and the model."""

    def __init__(
        self,
        graph_def: graph_pb2.GraphDef,
        op_list: graph_pb2.OpList | None = None,
        model: SavedModel | None = None,
        pruned_type: type[PrunedFunction] | None = None,
    ) -> None:
        self.graph_def = graph_def
        self.model = model
        # What prune() makes: graph's own PrunedFunction is data; sm_explorer.loaded
        # passes a subclass that also runs and saves.
        self.pruned_type = pruned_type
        self.functions: dict[str, graph_pb2.FunctionDef] = (
            model.functions if model is not None else {f.signature.name: f for f in graph_def.library.function}
        )
        self.signatures = OpSignatures(self.functions, op_list)
        self.graphs: dict[Any, Any] = {}  # cache: key -> Graph

    @classmethod
    def of(cls, model: SavedModel, pruned_type: type[PrunedFunction] | None = None) -> Library:
        """The library shared by everything that uses ``model``, made if none is alive
        (``pruned_type`` counts only then: the assembly layer makes it first)."""
        found = _SHARED.get(model)
        library = found() if found is not None else None
        if library is None:
            library = cls(model.graph_def, model.meta_graph.meta_info_def.stripped_op_list, model, pruned_type)
            _SHARED[model] = weakref.ref(library)
        return library

    def outer_graph(self) -> Any:
        """The GraphDef itself as a graph, built once."""
        graph = self.graphs.get("graph")
        if graph is None:
            from sm_explorer.graph.build import build_graph_def

            graph = self.graphs["graph"] = build_graph_def(self, self.graph_def)
        return graph

    def function_graph(self, name: str) -> Any:
        """One library function as a graph (calls not inlined), built once."""
        key = ("function", name)
        graph = self.graphs.get(key)
        if graph is None:
            from sm_explorer.graph.build import build_function
            from sm_explorer.graph.variables import bind_captures

            graph = self.graphs[key] = build_function(self, name)
            bind_captures(graph, self, name)
        return graph

    @classmethod
    def forget(cls, model: SavedModel) -> None:
        """Stop sharing a model's library, so the next ``of`` builds its graphs afresh
        (benchmarks measure cold builds)."""
        _SHARED.pop(model, None)

    def concrete_function_bindings(self, name: str) -> list[int] | None:
        """The object ids a TF2 concrete function captures (``bound_inputs``), if saved."""
        if self.model is None:
            return None
        saved = self.model.meta_graph.object_graph_def.concrete_functions
        if name not in saved:
            return None
        return list(saved[name].bound_inputs)

    def __repr__(self) -> str:
        return f"<Library {len(self.functions)} functions>"
