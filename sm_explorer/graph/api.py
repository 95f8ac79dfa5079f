"""Entry points: the graphs of a model, flattening, and pruning signatures.

``model`` may be a ``SavedModel`` (``open_saved_model``), what ``load``
returns, a ``Signature`` or a ``ConcreteFunction``. Graphs are cached on the
model's library, so asking again is free; treat them as read-only.
"""

from __future__ import annotations

from typing import Any

from sm_explorer._proto import graph_pb2
from sm_explorer.core import specs
from sm_explorer.core.functions import ConcreteFunction, Signature
from sm_explorer.core.model import SavedModel
from sm_explorer.core.objects import BareConcreteFunction, Function
from sm_explorer.core.root import Loaded
from sm_explorer.core.specs import TensorSpec
from sm_explorer.graph.build import MAX_DEPTH, MAX_NODES, build_function, build_graph_def
from sm_explorer.graph.graph import Graph, UnknownNameError
from sm_explorer.graph.library import Library
from sm_explorer.graph.nodes import node_of
from sm_explorer.graph.prune import PrunedFunction, prune
from sm_explorer.graph.variables import bind_captures

__all__ = [
    "saved_model_of", "library_of", "graph_of", "function_graph", "flatten", "graph_from_graph_def",
    "prune", "prune_signature", "prune_concrete_function", "signature_function",
]


def saved_model_of(model: Any) -> SavedModel:
    """The ``SavedModel`` behind a model, a loaded root, a signature or a function."""
    if isinstance(model, SavedModel):
        return model
    if isinstance(model, Loaded):
        return model.saved_model
    if isinstance(model, (Signature, ConcreteFunction)):
        return model.model
    raise TypeError(f"expected a SavedModel or what sm_explorer.load returns, not {type(model).__name__}")


def library_of(model: Any) -> Library:
    return Library.of(saved_model_of(model))


def graph_of(model: Any) -> Graph:
    """The outer graph of the model's MetaGraph (TF1 models live entirely here)."""
    return library_of(model).outer_graph()


def graph_from_graph_def(graph_def: graph_pb2.GraphDef, op_list: graph_pb2.OpList | None = None) -> Graph:
    """A graph model of a bare GraphDef (no checkpoint, no objects)."""
    return build_graph_def(Library(graph_def, op_list), graph_def)


def _function_name(library: Library, name: str) -> str:
    if name not in library.functions:
        from difflib import get_close_matches

        close = get_close_matches(name, list(library.functions), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownNameError(f"no function {name!r} in the library{hint}")
    return name


def function_graph(model: Any, name: str) -> Graph:
    """One library function as it is saved: its inputs are ``_Arg`` nodes, calls stay calls."""
    library = library_of(model)
    return library.function_graph(_function_name(library, name))


def _target(model: SavedModel, target: Any) -> str | None:
    """The function name a flatten target means; None for a TF1 signature (no function)."""
    if isinstance(target, ConcreteFunction):
        return target.name
    if isinstance(target, Signature):
        return target.concrete_function.name if target.concrete_function is not None else None
    if isinstance(target, (Function, BareConcreteFunction)) and len(target.concrete_functions) == 1:
        return target.concrete_functions[0].name
    if isinstance(target, str):
        if target in model.signature_defs:
            return _target(model, model.signature_defs[target])
        if target in model.functions:
            return target
        from difflib import get_close_matches

        close = get_close_matches(target, list(model.signature_defs) + list(model.functions), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownNameError(f"{target!r} is neither a signature key nor a library function{hint}")
    raise TypeError(f"cannot flatten a {type(target).__name__}; pass a signature key, Signature or ConcreteFunction")


def flatten(model: Any, target: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Graph:
    """One graph for a signature or concrete function, with every (Stateful)PartitionedCall
    and direct call inlined. A TF1 signature has no function: its graph is the outer graph."""
    saved = saved_model_of(model)
    library = Library.of(saved)
    name = _target(saved, target)
    if name is None:
        return graph_of(saved)
    key = ("flattened", _function_name(library, name), max_depth, max_nodes)
    graph = library.graphs.get(key)
    if graph is None:
        graph = build_function(library, name, inline=True, max_depth=max_depth, max_nodes=max_nodes)
        bind_captures(graph, library, name)
        library.graphs[key] = graph
    return graph


def prune_signature(signature: Signature, feeds: Any, fetches: Any) -> PrunedFunction:
    """``signature.prune(feeds, fetches)``: prune the signature's flattened graph.

    The SignatureDef's own tensor names (``serving_default_image:0``, what
    ``sm-explorer show`` prints) are accepted too and mean the matching input
    or output of the flattened graph."""
    from sm_explorer.graph.prune import map_structure

    graph = flatten(saved_model_of(signature), signature)
    inputs, outputs = _signature_io(graph, signature)
    aliases = {spec.name: inputs[k] for k, spec in signature.inputs.items() if spec.name and k in inputs}
    aliases.update({spec.name: outputs[k] for k, spec in signature.outputs.items() if spec.name and k in outputs})

    def translate(name: Any) -> Any:
        if isinstance(name, str) and name not in graph and node_of(name) not in graph:
            return aliases.get(name, name)
        return name

    return prune(graph, map_structure(translate, feeds), map_structure(translate, fetches))


def prune_concrete_function(function: ConcreteFunction, feeds: Any, fetches: Any) -> PrunedFunction:
    """``function.prune(feeds, fetches)``: prune the function's flattened graph."""
    return prune(flatten(saved_model_of(function), function), feeds, fetches)


def _signature_io(graph: Graph, signature: Signature) -> tuple[dict[str, str], dict[str, str]]:
    """Feeds and fetches of a signature, by key, as tensors of its flattened graph."""
    fn = signature.concrete_function
    if fn is None:  # TF1: the SignatureDef names tensors of the outer graph ("x" meaning "x:0")
        def tensor(name: str) -> str:
            node = graph.nodes.get(name)
            return name if ":" in name or (node is not None and graph.num_outputs(node) == 0) else f"{name}:0"

        feeds = {k: tensor(s.name) for k, s in signature.inputs.items() if s.name}
        return feeds, {k: tensor(s.name) for k, s in signature.outputs.items() if s.name}
    function = graph.library.functions[fn.name].signature
    args = [a.name for a in function.input_arg]
    structured = [s for s in specs.flatten(fn.structured_input_signature) if isinstance(s, TensorSpec)]
    in_keys = [s.name or "" for s in structured]
    if sorted(in_keys) != sorted(signature.inputs):
        in_keys = sorted(signature.inputs)
    feeds = {k: f"{graph.inputs[i]}:0" for i, k in enumerate(in_keys) if i < len(args)}
    out_keys = sorted(signature.outputs)
    fetches = {
        k: graph.outputs[arg.name].name
        for k, arg in zip(out_keys, function.output_arg) if arg.name in graph.outputs
    }
    return feeds, fetches


def signature_function(model: Any, key: str) -> PrunedFunction:
    """A signature as a pruned function: feeds are its inputs, fetches its outputs
    (how TF's loader builds the signatures of a TF1 model)."""
    saved = saved_model_of(model)
    if key not in saved.signature_defs:
        raise UnknownNameError(f"no signature {key!r}; signatures: {sorted(saved.signature_defs)}")
    signature = saved.signature_defs[key]
    graph = flatten(saved, signature)
    feeds, fetches = _signature_io(graph, signature)
    return prune(graph, feeds, fetches)
