"""Linking resource and variable nodes to the variables (and checkpoint keys) they use.

TF1: a ``VariableV2``/``VarHandleOp`` node's name is the variable's name and
(unless partitioned) its checkpoint key. TF2: a concrete function's trailing
inputs are its captures, bound to objects by ``bound_inputs`` (node ids of
the object graph); the outer graph passes VarHandleOps to those inputs. Ops
that use a handle are linked by following their input back through
Identity-like ops to the node that made it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sm_explorer.core.objects import Variable
from sm_explorer.graph.nodes import CALL_OPS, Binding, TensorRef, node_of

if TYPE_CHECKING:
    from sm_explorer.graph.graph import Graph
    from sm_explorer.graph.library import Library

__all__ = ["link_variables", "bind_captures", "source_of", "SliceInfo", "slice_infos", "VARIABLE_OPS"]

VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})
_PASS_FIRST = frozenset({"Identity", "Snapshot", "Enter", "RefEnter", "RefIdentity", "Switch", "RefSwitch"})
_HANDLE_TYPES = frozenset({0, 20})  # unknown, resource (refs are >= 100)


def _binding(obj: object, how: str) -> Binding:
    if isinstance(obj, Variable):
        return Binding(obj, obj, obj.checkpoint_key, how)
    return Binding(obj, None, None, how)  # type: ignore[arg-type]


def bind_captures(graph: Graph, library: Library, function: str) -> None:
    """Bind a function graph's trailing (captured) inputs to the objects in its
    concrete function's ``bound_inputs``."""
    bound = library.concrete_function_bindings(function)
    model = library.model
    if not bound or model is None:
        return
    args = [n for n in graph.inputs if graph.nodes[n].op == "_Arg"]
    if len(bound) > len(args):
        graph.notes.append(f"{function} binds {len(bound)} captures but has only {len(args)} inputs")
        return
    for arg, node_id in zip(args[len(args) - len(bound):], bound):
        obj = model.object_by_id(node_id)
        if obj is not None:
            graph.captures[arg] = _binding(obj, f"bound input of {function}")


def _handle_passes(graph: Graph, name: str, index: int) -> TensorRef | None:
    """The input a handle or ref flows from when ``name`` just passes it on."""
    node = graph.nodes.get(name)
    if node is None or not node.inputs:
        return None
    t = node.proto.attr.get("T")
    if node.op in _PASS_FIRST:
        if t is not None and t.type not in _HANDLE_TYPES and t.type < 100:
            return None
        return node.inputs[0]
    if node.op == "IdentityN" and index < len(node.inputs):
        types = t.list.type if t is not None else []
        if index < len(types) and types[index] not in _HANDLE_TYPES and types[index] < 100:
            return None
        return node.inputs[index]
    return None


def source_of(graph: Graph, ref: TensorRef, limit: int = 256) -> str:
    """The node a handle or ref tensor comes from, through Identity-like ops."""
    for _ in range(limit):
        nxt = _handle_passes(graph, ref.node, ref.index)
        if nxt is None:
            return ref.node
        ref = nxt
    return ref.node


def _tf1_sources(graph: Graph, library: Library) -> dict[str, Binding]:
    model = library.model
    if model is None:
        return {}
    by_op = {node_of(v.name): v for v in model.variables}
    entries = model.checkpoint.entries if model.checkpoint is not None else {}
    found = {}
    for node in graph.nodes.values():
        if node.op not in VARIABLE_OPS:
            continue
        variable = by_op.get(node.name)
        if variable is not None:
            found[node.name] = Binding(None, variable, variable.checkpoint_key, "variable op name")
        elif node.name in entries:
            found[node.name] = Binding(None, None, node.name, "checkpoint key = op name")
    return found


def _outer_call_sources(graph: Graph, library: Library) -> dict[str, Binding]:
    """TF2 outer graph: VarHandleOps passed to the captured inputs of saved calls."""
    model = library.model
    found: dict[str, Binding] = {}
    if model is None:
        return found
    for node in graph.nodes.values():
        if node.op not in CALL_OPS or "f" not in node.proto.attr:
            continue
        function = node.proto.attr["f"].func.name
        bound = library.concrete_function_bindings(function)
        if not bound or len(bound) > len(node.inputs):
            continue
        for ref, node_id in zip(node.inputs[len(node.inputs) - len(bound):], bound):
            obj = model.object_by_id(node_id)
            source = source_of(graph, ref)
            if obj is not None and source not in found:
                found[source] = _binding(obj, f"captured by {function} through {node.name}")
    return found


def _asset_sources(graph: Graph, library: Library) -> dict[str, Binding]:
    """Placeholders the loader feeds with an asset's path (``model.assets``)."""
    model = library.model
    if model is None:
        return {}
    found = {}
    pairs = [(a.filename, a.tensor_info.name) for a in model.meta_graph.asset_file_def]
    for filename, tensor in pairs + model.assets:  # model.assets keeps one tensor per file
        name = node_of(tensor)
        node = graph.nodes.get(name)
        if node is not None and node.op == "Placeholder" and name not in found:
            found[name] = Binding(None, None, None, "asset path fed by the loader", filename)
    return found


def _saved_positions(graph: Graph) -> dict[int, str]:
    """Input index -> checkpoint key, for the inputs a save function reads and
    writes with SaveV2 (``tensor_names`` gives each tensor's key)."""
    found: dict[int, str] = {}
    for node in graph.nodes.values():
        if node.op != "SaveV2" or len(node.inputs) < 3:
            continue
        names = graph.nodes.get(node.inputs[1].node)
        if names is None or names.op != "Const" or "value" not in names.proto.attr:
            continue
        keys = names.proto.attr["value"].tensor.string_val
        for k, ref in enumerate(node.inputs[3:]):
            for _ in range(16):  # back through Identity / ReadVariableOp to the function input
                producer = graph.nodes.get(ref.node)
                if producer is None or producer.op not in _PASS_FIRST | {"ReadVariableOp"} or not producer.inputs:
                    break
                ref = producer.inputs[0]
            producer = graph.nodes.get(ref.node)
            index = producer.proto.attr.get("index") if producer is not None and producer.op == "_Arg" else None
            if index is not None and k < len(keys):
                found[int(index.i)] = keys[k].decode("utf-8", "replace")
    return found


def _saver_sources(graph: Graph, library: Library) -> dict[str, Binding]:
    """TF2 outer graph: VarHandleOps handed to a traced save function, by the key it saves them under."""
    model = library.model
    found: dict[str, Binding] = {}
    if model is None:
        return found
    by_key = {v.checkpoint_key: v for v in model.variables if v.checkpoint_key}
    for node in graph.nodes.values():
        callee = node.proto.attr["f"].func.name if node.op in CALL_OPS and "f" in node.proto.attr else ""
        fdef = library.functions.get(callee)
        if fdef is None or not any(n.op == "SaveV2" for n in fdef.node_def):
            continue
        for index, key in _saved_positions(library.function_graph(callee)).items():
            if index < len(node.inputs):
                source = source_of(graph, node.inputs[index])
                variable = by_key.get(key)
                found.setdefault(source, Binding(variable, variable, key, f"saved as {key!r} by {callee}"))
    return found


def _name_sources(graph: Graph, library: Library, taken: dict[str, Binding]) -> dict[str, Binding]:
    """Last resort: a VarHandleOp whose shared_name is the name of exactly one variable."""
    model = library.model
    if model is None:
        return {}
    by_name: dict[str, list[Variable]] = {}
    for v in model.variables:
        by_name.setdefault(node_of(v.name), []).append(v)
    found = {}
    for node in graph.nodes.values():
        if node.op != "VarHandleOp" or node.name in taken or "shared_name" not in node.proto.attr:
            continue
        matches = by_name.get(node.proto.attr["shared_name"].s.decode("utf-8", "replace"), [])
        if len(matches) == 1:
            found[node.name] = Binding(matches[0], matches[0], matches[0].checkpoint_key, "shared_name")
    return found


def sources(graph: Graph) -> dict[str, Binding]:
    """Nodes that are variables or captured objects themselves (use ``graph.bindings``)."""
    library = graph.library
    found = dict(graph.captures)
    if graph.kind == "graph":
        model = library.model
        found.update(_asset_sources(graph, library))
        if model is not None and model.kind == "tf1":
            found.update(_tf1_sources(graph, library))
        else:
            for name, binding in [*_outer_call_sources(graph, library).items(),
                                  *_saver_sources(graph, library).items()]:
                found.setdefault(name, binding)
            found.update(_name_sources(graph, library, found))
    return found


def link_variables(graph: Graph) -> dict[str, tuple[Binding, ...]]:
    """Node -> bindings it is or uses (through a handle or ref input)."""
    roots = graph.bindings
    links: dict[str, tuple[Binding, ...]] = {name: (b,) for name, b in roots.items()}
    if not roots:
        return links
    memo: dict[TensorRef, str] = {}
    for node in graph.nodes.values():
        used: list[Binding] = []
        for ref in node.inputs:
            src = memo.get(ref)
            if src is None:
                src = memo[ref] = source_of(graph, ref)
            binding = roots.get(src)
            if binding is not None and binding not in used:
                used.append(binding)
        if used and node.name not in roots:
            links[node.name] = tuple(used)
    return links


class SliceInfo(NamedTuple):
    """Where a TF1 partitioned variable's part sits in the full checkpoint tensor."""

    full_name: str
    offset: tuple[int, ...]
    shape: tuple[int, ...]


def slice_infos(library: Library) -> dict[str, SliceInfo]:
    """Variable op name -> slice of its saved tensor, for TF1 partitioned variables."""
    model = library.model
    if model is None:
        return {}
    from sm_explorer.core.object_graph import variable_defs

    found = {}
    for key in ("variables", "trainable_variables"):
        for proto in variable_defs(model, key):
            info = proto.save_slice_info_def
            if info.full_name and info.var_shape:
                found[node_of(proto.variable_name)] = SliceInfo(
                    info.full_name, tuple(info.var_offset), tuple(info.var_shape)
                )
    return found
