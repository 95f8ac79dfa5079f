"""Core's functions, signatures and root, with the behaviour ``load`` promises.

Each class keeps its core name (so reprs and error messages read the same)
and adds calling (through the context's session), pruning (through the graph
layer) and, for the root, its graph. Core builds them through the
``ObjectClasses`` that ``ModelContext`` passes, bound to that context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_explorer.core import functions, objects, root
from sm_explorer.core.model import SavedModel
from sm_explorer.errors import NotImplementedYetError
from sm_explorer.exec.session import ArgumentError
from sm_explorer.graph.api import graph_of, prune_concrete_function, prune_signature
from sm_explorer.graph.graph import Graph
from sm_explorer.graph.prune import PrunedFunction

if TYPE_CHECKING:
    from sm_explorer.loaded.context import ModelContext

__all__ = ["ConcreteFunction", "Signature", "Function", "BareConcreteFunction", "Loaded"]


class ConcreteFunction(functions.ConcreteFunction):
    """One traced function that runs on NumPy and prunes."""

    def __init__(self, context: ModelContext, model: SavedModel, name: str, proto: Any) -> None:
        super().__init__(model, name, proto)
        self._context = context

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run on NumPy (see ``sm_explorer.exec``); returns TF's output structure."""
        return self._context.session.call_function([self], args, kwargs, self.name)

    def prune(self, feeds: Any, fetches: Any) -> PrunedFunction:
        """The subgraph of this function (flattened) that ``fetches`` need from ``feeds``."""
        return prune_concrete_function(self, feeds, fetches)


class Signature(functions.Signature):
    """A SignatureDef that runs on NumPy and prunes."""

    def __init__(self, context: ModelContext, model: SavedModel, key: str, proto: Any) -> None:
        super().__init__(model, key, proto)
        self._context = context

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run on NumPy with keyword inputs; returns a dict of output arrays."""
        if args:
            raise ArgumentError(f"signature {self.key!r} takes keyword inputs only: {', '.join(self.inputs)}")
        return self._context.session.run_signature(self, kwargs)

    def prune(self, feeds: Any, fetches: Any) -> PrunedFunction:
        """The subgraph of this signature (flattened) that ``fetches`` need from ``feeds``."""
        return prune_signature(self, feeds, fetches)


class _Calls:
    """Calling a tf.function object: the first concrete function the arguments fit."""

    _context: ModelContext
    _path: str
    concrete_functions: list[functions.ConcreteFunction]
    arg_names: list[str] | None
    defaults: dict[str, Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the first concrete function the arguments fit, on NumPy."""
        return self._context.session.call_function(
            self.concrete_functions, args, kwargs, self._path, self.arg_names, self.defaults
        )


class Function(_Calls, objects.Function):
    """A tf.function whose concrete functions run on NumPy."""

    def __init__(
        self,
        context: ModelContext,
        model: SavedModel,
        node_id: int | None,
        path: str,
        concrete_functions: list[functions.ConcreteFunction],
    ) -> None:
        super().__init__(model, node_id, path, concrete_functions)
        self._context = context


class BareConcreteFunction(_Calls, objects.BareConcreteFunction):
    """A single traced function saved on its own, which runs on NumPy."""

    def __init__(
        self,
        context: ModelContext,
        model: SavedModel,
        node_id: int | None,
        path: str,
        function: functions.ConcreteFunction | None,
        argument_keywords: list[str],
    ) -> None:
        super().__init__(model, node_id, path, function, argument_keywords)
        self._context = context


class Loaded(root.Loaded):
    """The root ``load`` returns: callable when the model saved a ``__call__``, its graph, TF1 pruning."""

    @property
    def graph(self) -> Graph:
        """The graph model of the MetaGraph's graph (the whole model for TF1)."""
        return graph_of(self.saved_model)

    def prune(self, feeds: Any, fetches: Any) -> PrunedFunction:
        """Like TF's ``loaded.prune`` for TF1 models: the subgraph ``fetches`` need
        from ``feeds``. (For TF2, prune a signature: ``signatures[k].prune``.)"""
        if self.saved_model.kind != "tf1":
            raise NotImplementedYetError(
                "prune on the root is for TF1 models, as in TensorFlow; for TF2 use "
                "loaded.signatures[key].prune(feeds, fetches)"
            )
        return self.graph.prune(feeds, fetches)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = self._children.get("__call__")
        if call is None:
            raise TypeError("this SavedModel's root object is not callable (it has no __call__)")
        return call(*args, **kwargs)
