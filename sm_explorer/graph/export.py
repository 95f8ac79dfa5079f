"""A pruned subgraph as a self-contained GraphDef.

Feeds become Placeholders. A variable only read becomes a value node:
in TF2 graphs each ``ReadVariableOp`` on a captured variable is replaced in
place (same name), in TF1 graphs the ``VariableV2`` node itself (so
``var/read`` still works). A variable used by more (an assign, a While or
If that reads it in its body, a gather) stays a variable, initialized from
a value node by an init op every kept user of it waits on. Value nodes are
Placeholders (``variables="placeholders"``, see ``variable_inputs``) or
Consts holding the checkpoint values (``"constants"``). Captured constants
and assets become Consts. Functions the kept nodes call (If/While
branches, calls not inlined) are copied into the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sm_explorer._proto import graph_pb2, types_pb2
from sm_explorer.core import dtypes
from sm_explorer.core.objects import Asset, Constant
from sm_explorer.errors import UnsupportedError, ValueUnavailableError
from sm_explorer.graph.errors import PruneError
from sm_explorer.graph.nodes import Binding
from sm_explorer.graph.variables import slice_infos

if TYPE_CHECKING:
    import numpy as np

    from sm_explorer.graph.graph import Graph
    from sm_explorer.graph.prune import PrunedFunction

__all__ = [
    "to_graph_def", "plan_variables", "capture_node", "is_variable", "HANDLE_OPS", "VariablePlan", "tensor_proto",
    "variable_value", "variable_values",
    "REF_WRITERS",
]

MODES = ("placeholders", "constants")
HANDLE_OPS = ("_Arg", "VarHandleOp", "VariableV2", "Variable")
# TF1 ops that write through a ref input: a variable they use must stay a variable.
REF_WRITERS = frozenset({
    "Assign", "AssignAdd", "AssignSub", "ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul",
    "ScatterDiv", "ScatterNdUpdate", "ScatterNdAdd", "CountUpTo", "ApplyGradientDescent", "ApplyMomentum",
    "ApplyAdam", "ApplyAdagrad", "ApplyRMSProp", "ApplyFtrl", "IsVariableInitialized",
})


class VariablePlan(NamedTuple):
    """How variables appear in the GraphDef: ``reads`` (node replaced by a value
    node of the same name) and ``handles`` (variable node kept -> (value node,
    init op)), each with its binding and the node holding the variable."""

    reads: dict[str, tuple[Binding, str]]
    handles: dict[str, tuple[Binding, str, str]]

    def value_nodes(self) -> dict[str, Binding]:
        out = {name: b for name, (b, _) in self.reads.items()}
        out.update({value: b for b, value, _ in self.handles.values()})
        return out


def tensor_proto(value: np.ndarray, dtype: int) -> types_pb2.TensorProto:
    """A TensorProto holding ``value`` as ``dtype`` (strings in string_val, others packed)."""
    import numpy

    proto = types_pb2.TensorProto(dtype=dtype)
    _set_shape(proto.tensor_shape, value.shape)
    if dtype == 7:
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in value.ravel())
        return proto
    np_dtype = dtypes.numpy_dtype(dtype)
    if np_dtype is None:
        raise UnsupportedError(f"cannot write a constant of dtype {dtypes.dtype_name(dtype)}")
    proto.tensor_content = numpy.ascontiguousarray(value, dtype=np_dtype.newbyteorder("<")).tobytes()
    return proto


def _set_shape(proto: types_pb2.TensorShapeProto, shape: object) -> None:
    proto.SetInParent()  # a scalar shape has no dims but must still be set
    if shape is None:
        proto.unknown_rank = True
        return
    for size in shape:  # type: ignore[attr-defined]
        proto.dim.add().size = -1 if size is None else size


def _base_type(value: int) -> int:
    return value - dtypes.REF_OFFSET if value > dtypes.REF_OFFSET else value


def is_variable(binding: Binding | None) -> bool:
    return binding is not None and (binding.variable is not None or binding.checkpoint_key is not None)


def _unique(taken: set[str], name: str) -> str:
    out, i = name, 0
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    taken.add(out)
    return out


def plan_variables(pruned: PrunedFunction) -> VariablePlan:
    """Which variable nodes become values and which stay variables (see module doc).

    A resource variable whose kept users are all ``ReadVariableOp``s is only read:
    each read becomes a value node. Any other user (an assign, a While, an
    Identity, a control edge) keeps it a variable, reads included, so reads
    after a write still see the write."""
    graph, kept = pruned.graph, pruned.node_set
    bindings = graph.bindings
    taken = set(graph.nodes) | {t[:-2] for t in pruned.feed_names.values()}
    reads: dict[str, tuple[Binding, str]] = {}
    handles: dict[str, tuple[Binding, str, str]] = {}
    for name in pruned.nodes:
        binding = bindings.get(name)
        op = graph.nodes[name].op
        if binding is None or not is_variable(binding) or op not in HANDLE_OPS:
            continue
        if op in ("VariableV2", "Variable"):
            keep = _written(pruned, name)
        else:
            keep = any(
                c in kept and (pos != 0 or graph.nodes[c].op != "ReadVariableOp") for c, pos in graph.consumers(name)
            )
        if keep:
            handles[name] = (binding, _unique(taken, f"{name}/value"), _unique(taken, f"{name}/initialize"))
        elif op in ("VariableV2", "Variable"):
            reads[name] = (binding, name)
    for name in pruned.nodes:
        node = graph.nodes[name]
        if node.op == "ReadVariableOp" and node.inputs:
            source = node.inputs[0].node
            binding = bindings.get(source)
            if binding is not None and is_variable(binding) and source not in handles:
                reads[name] = (binding, source)
    return VariablePlan(reads, handles)


def _written(pruned: PrunedFunction, name: str) -> bool:
    """Whether a kept node writes to ref variable ``name`` (through Ref* pass-throughs too)."""
    graph = pruned.graph
    stack, seen = [name], {name}
    while stack:
        for consumer, pos in graph.consumers(stack.pop()):
            if consumer not in pruned.node_set or pos < 0 or consumer in seen:
                continue
            op = graph.nodes[consumer].op
            if op in REF_WRITERS:
                return True
            if op in ("RefIdentity", "RefEnter", "RefSwitch"):
                seen.add(consumer)
                stack.append(consumer)
    return False


def _variable_info(graph: Graph, binding: Binding, source: str) -> tuple[int, object]:
    """(base dtype enum, shape) of the variable held by node ``source``."""
    attrs = graph.nodes[source].proto.attr
    v = binding.variable
    dtype = 0
    if "dtype" in attrs:
        dtype = _base_type(attrs["dtype"].type)
    elif "_handle_dtypes" in attrs and attrs["_handle_dtypes"].list.type:
        dtype = attrs["_handle_dtypes"].list.type[0]
    elif v is not None:
        try:
            dtype = _base_type(dtypes.dtype_from_name(v.dtype))
        except ValueError:
            dtype = 0
    if not dtype:
        raise PruneError(f"cannot tell the dtype of variable {binding.name!r}")
    shape = v.shape if v is not None else (graph.output_shape(graph.nodes[source], 0) if "shape" in attrs else None)
    return dtype, shape


def variable_value(graph: Graph, binding: Binding, source: str) -> np.ndarray:
    """The saved value of the variable held by node ``source`` (a TF1 part: its slice)."""
    model = graph.library.model
    if model is None:
        raise ValueUnavailableError(f"{binding.name!r}: no model to read the variable's value from")
    if binding.variable is not None:
        value = model.read_variable(binding.variable)
    elif binding.checkpoint_key and model.checkpoint is not None:
        value = model.checkpoint.read(binding.checkpoint_key)
    else:
        raise ValueUnavailableError(f"{binding.name!r} has no saved value")
    part = slice_infos(graph.library).get(source)
    if part is not None and tuple(value.shape) != part.shape:
        value = value[tuple(slice(o, o + s) for o, s in zip(part.offset, part.shape))]
    return value


def variable_values(pruned: PrunedFunction) -> dict[str, np.ndarray]:
    """Value node tensor -> saved value, to feed ``graph_def(variables="placeholders")``."""
    plan = plan_variables(pruned)
    out = {f"{name}:0": variable_value(pruned.graph, b, source) for name, (b, source) in plan.reads.items()}
    for name, (binding, value, _) in plan.handles.items():
        out[f"{value}:0"] = variable_value(pruned.graph, binding, name)
    return out


def _value_node(out: graph_pb2.GraphDef, graph: Graph, name: str, binding: Binding, source: str, mode: str,
                device: str = "") -> int:
    dtype, shape = _variable_info(graph, binding, source)
    if mode == "constants":
        node = out.node.add(name=name, op="Const", device=device)
        node.attr["dtype"].type = dtype
        node.attr["value"].tensor.CopyFrom(tensor_proto(variable_value(graph, binding, source), dtype))
    else:
        _placeholder(out, name, dtype, shape, device)
    return dtype


def _placeholder(out: graph_pb2.GraphDef, name: str, dtype: int, shape: object, device: str = "") -> None:
    node = out.node.add(name=name, op="Placeholder", device=device)
    node.attr["dtype"].type = dtype
    _set_shape(node.attr["shape"].shape, shape)


def _handle(out: graph_pb2.GraphDef, graph: Graph, name: str, plan: tuple[Binding, str, str], mode: str) -> None:
    """A kept variable: its node, a value node, and the op that assigns one to the other."""
    binding, value, init = plan
    node = graph.nodes[name]
    dtype = _value_node(out, graph, value, binding, name, mode, node.device)
    if node.op == "_Arg":
        handle = out.node.add(name=name, op="VarHandleOp", device=node.device)
        handle.attr["dtype"].type = dtype
        _set_shape(handle.attr["shape"].shape, _variable_info(graph, binding, name)[1])
        handle.attr["shared_name"].s = name.encode()  # unique in the graph, so never aliased
        handle.attr["container"].s = b""
    else:
        copy = out.node.add()
        copy.CopyFrom(node.proto)
        del copy.input[:]
    resource = node.op in ("_Arg", "VarHandleOp")
    assign = out.node.add(name=init, op="AssignVariableOp" if resource else "Assign", device=node.device)
    assign.input.extend([name, value])
    assign.attr["dtype" if resource else "T"].type = dtype
    if not resource:
        assign.attr["validate_shape"].b = True


def capture_node(graph: Graph, name: str, binding: Binding, notes: list[str]) -> graph_pb2.NodeDef:
    """What a captured input that is not a variable stands for in a self-contained graph:
    a constant, an asset path, a placeholder, or an outer-graph resource op as it is."""
    node = graph.nodes[name]
    obj = binding.obj
    model = graph.library.model
    source = model.nodes_by_name.get(obj.operation) if isinstance(obj, Constant) and model is not None else None
    out = graph_pb2.GraphDef()
    if source is not None and "value" in source.attr and "dtype" in source.attr:
        const = out.node.add(name=name, op="Const")
        const.attr["value"].CopyFrom(source.attr["value"])
        const.attr["dtype"].CopyFrom(source.attr["dtype"])
    elif (isinstance(obj, Asset) and obj.asset_path is not None) or (binding.asset and model is not None):
        path = obj.asset_path if isinstance(obj, Asset) else str(model.asset_path(binding.asset))  # type: ignore
        const = out.node.add(name=name, op="Const")
        const.attr["dtype"].type = 7
        const.attr["value"].tensor.CopyFrom(types_pb2.TensorProto(dtype=7, string_val=[path.encode()]))
    elif node.op == "_Arg":
        t = node.proto.attr.get("T")
        _placeholder(out, name, t.type if t is not None else 20, (), node.device)
        notes.append(f"{name}: captured {binding.name} cannot be made self-contained; it is a placeholder")
    else:
        copy = out.node.add()
        copy.CopyFrom(node.proto)  # an outer-graph resource op (a hash table): keep it as it is
        copy.name = name
        del copy.input[:]
    return out.node[0]


def _functions(graph: Graph, out: graph_pb2.GraphDef) -> None:
    """Copy every library function the kept nodes reach into ``out.library``."""
    functions = graph.library.functions
    wanted: list[str] = []

    def visit(nodes: object) -> None:
        for nd in nodes:  # type: ignore[attr-defined]
            if nd.op in functions:
                wanted.append(nd.op)
            for value in nd.attr.values():
                which = value.WhichOneof("value")
                if which == "func":
                    wanted.append(value.func.name)
                elif which == "list":
                    wanted.extend(f.name for f in value.list.func)

    visit(out.node)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        visit(functions[name].node_def)
    for name in sorted(seen):
        out.library.function.add().CopyFrom(functions[name])


def _copy(out: graph_pb2.GraphDef, pruned: PrunedFunction, name: str, waits: list[str], emitted: set[str],
          notes: list[str]) -> None:
    """A kept node as it is, its inputs renamed where fed, plus init ops to wait on."""
    node = pruned.graph.nodes[name]
    feed_names = pruned.feed_names
    copy = out.node.add()
    copy.CopyFrom(node.proto)
    copy.name = name
    del copy.input[:]
    for ref in node.inputs:
        if ref in feed_names:
            tensor = feed_names[ref]
            copy.input.append(tensor[:-2] if tensor.endswith(":0") else tensor)
        else:
            copy.input.append(ref.input_text())
            if not ref.known:
                notes.append(f"{name}: input {ref.name} has an unknown flat index")
    copy.input.extend(f"^{c}" for c in [*node.control_inputs, *waits])
    if "_class" in copy.attr:  # colocation with nodes that are gone would fail to import
        kept = [
            s for s in copy.attr["_class"].list.s
            if not s.startswith(b"loc:@") or s[5:].decode("utf-8", "replace") in emitted
        ]
        del copy.attr["_class"]
        if kept:
            copy.attr["_class"].list.s.extend(kept)


def to_graph_def(pruned: PrunedFunction, variables: str, *, clear_devices: bool = False) -> graph_pb2.GraphDef:
    if variables not in MODES:
        raise PruneError(f"variables must be one of {MODES}, not {variables!r}")
    graph = pruned.graph
    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(graph.library.graph_def.versions)
    notes: list[str] = []
    for ref, tensor in pruned.feed_names.items():
        t = graph.tensor(ref)
        try:
            dtype = _base_type(dtypes.dtype_from_name(t.dtype))
        except ValueError:
            raise PruneError(f"cannot make a placeholder for feed {ref.name!r}: its dtype is {t.dtype}") from None
        _placeholder(out, tensor[:-2], dtype, t.shape)
    plan = plan_variables(pruned)
    waits: dict[str, list[str]] = {}
    for name, (_, _, init) in plan.handles.items():
        for consumer, _ in graph.consumers(name):
            if consumer in pruned.node_set and consumer not in plan.reads:
                waits.setdefault(consumer, []).append(init)
    emitted = set(pruned.nodes) | {t[:-2] for t in pruned.feed_names.values()}
    for name in pruned.nodes:
        node = graph.nodes[name]
        if name in plan.reads:
            binding, source = plan.reads[name]
            _value_node(out, graph, name, binding, source, variables, node.device)
        elif name in plan.handles:
            _handle(out, graph, name, plan.handles[name], variables)
        elif name in pruned.captures and node.op in HANDLE_OPS + ("Placeholder",):
            if is_variable(pruned.captures[name]):
                emitted.discard(name)  # only read: every read became a value node
            else:
                out.node.append(capture_node(graph, name, pruned.captures[name], notes))
        else:
            _copy(out, pruned, name, waits.get(name, []), emitted, notes)
    if clear_devices:
        for node_def in out.node:
            node_def.device = ""
    _functions(graph, out)
    pruned.notes = notes
    return out
