"""Build the Python objects and variables of a SavedModel.

TF2: one Trackable per SavedObjectGraph node. Variables get their checkpoint
key from the checkpoint's own object graph, matched to the saved one by
child names from the root; without it (weights missing), from the path.
TF1: variables come from the "variables" collections or the graph's
variable ops, keyed by op name as TF1's Saver writes them.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from sm_explorer._proto import objects_pb2
from sm_explorer.core import dtypes, specs
from sm_explorer.core.objects import (
    Asset,
    BareConcreteFunction,
    CapturedTensor,
    Constant,
    Function,
    Resource,
    Trackable,
    UserObject,
    Variable,
)
from sm_explorer.core.shapes import shape_of

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["build", "escape_local_name", "variable_defs"]

VALUE_ATTRIBUTE = "VARIABLE_VALUE"
VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")


def build(model: SavedModel) -> None:
    if model.kind == "tf2":
        _build_tf2(model)
    else:
        _build_tf1(model)


# ---- TF2 ----

def _paths(graph: objects_pb2.SavedObjectGraph) -> list[list[str] | None]:
    """The shortest child-name path to each node (breadth-first, as TF names them)."""
    paths: list[list[str] | None] = [None] * len(graph.nodes)
    if not graph.nodes:
        return paths
    paths[0] = []
    queue = deque([0])
    while queue:
        node_id = queue.popleft()
        for ref in graph.nodes[node_id].children:
            child = ref.node_id
            if 0 <= child < len(paths) and paths[child] is None:
                paths[child] = [*paths[node_id], ref.local_name]  # type: ignore[misc]
                queue.append(child)
    return paths


def escape_local_name(name: str) -> str:
    """How checkpoint keys spell a child name ("/" and "." are escaped)."""
    return name.replace(".", "..").replace("/", ".S")


def _checkpoint_keys(model: SavedModel, paths: list[list[str] | None]) -> dict[int, str]:
    """Saved node id -> the checkpoint key of its value."""
    graph = model.meta_graph.object_graph_def
    ckpt = model.checkpoint
    keys: dict[int, str] = {}
    stored = ckpt.object_graph() if ckpt is not None else None
    if stored is not None and stored.nodes:
        matched = _match(graph, stored)
        for saved_id, ckpt_id in matched.items():
            for attribute in stored.nodes[ckpt_id].attributes:
                if attribute.name == VALUE_ATTRIBUTE:
                    keys[saved_id] = attribute.checkpoint_key
    entries = ckpt.entries if ckpt is not None else {}

    def spell(path: list[str]) -> str:
        return "/".join(escape_local_name(p) for p in path)

    guesses: dict[int, str] = {}
    for node_id, path in enumerate(paths):
        if path is not None:
            guesses[node_id] = f"{spell(path)}/.ATTRIBUTES/{VALUE_ATTRIBUTE}"
    for owner_id, node in enumerate(graph.nodes):  # optimizer slots: var/.OPTIMIZER_SLOT/opt/slot
        for ref in node.slot_variables:
            original = ref.original_variable_node_id
            owner, var = paths[owner_id], paths[original] if 0 <= original < len(paths) else None
            if owner is not None and var is not None:
                guesses.setdefault(
                    ref.slot_variable_node_id,
                    f"{spell(var)}/.OPTIMIZER_SLOT/{spell(owner)}/{escape_local_name(ref.slot_name)}"
                    f"/.ATTRIBUTES/{VALUE_ATTRIBUTE}",
                )
    for node_id, guess in guesses.items():
        if node_id not in keys and (guess in entries or ckpt is None):
            keys[node_id] = guess
    return keys


def _match(graph: objects_pb2.SavedObjectGraph, stored: objects_pb2.TrackableObjectGraph) -> dict[int, int]:
    """Saved node id -> checkpoint node id, by child names from the roots, then
    optimizer slot variables by (original variable, slot name)."""
    matched = {0: 0}
    queue = deque([0])
    while queue:
        saved_id = queue.popleft()
        ckpt_node = stored.nodes[matched[saved_id]]
        by_name = {r.local_name: r.node_id for r in ckpt_node.children}
        for ref in graph.nodes[saved_id].children:
            target = by_name.get(ref.local_name)
            if (
                target is not None and 0 <= target < len(stored.nodes)
                and 0 <= ref.node_id < len(graph.nodes) and ref.node_id not in matched
            ):
                matched[ref.node_id] = target
                queue.append(ref.node_id)
    for saved_id, ckpt_id in list(matched.items()):
        slots = {
            (r.original_variable_node_id, r.slot_name): r.slot_variable_node_id
            for r in stored.nodes[ckpt_id].slot_variables
        }
        for ref in graph.nodes[saved_id].slot_variables:
            target = slots.get((matched.get(ref.original_variable_node_id, -1), ref.slot_name))
            if target is not None and 0 <= target < len(stored.nodes) and 0 <= ref.slot_variable_node_id < len(
                graph.nodes
            ):
                matched.setdefault(ref.slot_variable_node_id, target)
    return matched


def _slot_paths(graph: objects_pb2.SavedObjectGraph, paths: list[list[str] | None]) -> None:
    """Name slot variables (reachable only through their optimizer) after
    their optimizer, slot and variable: ``optimizer.momentum[dense.kernel]``."""
    for owner_id, node in enumerate(graph.nodes):
        owner = paths[owner_id]
        for ref in node.slot_variables:
            slot_id, original = ref.slot_variable_node_id, ref.original_variable_node_id
            if owner is None or not 0 <= slot_id < len(paths) or paths[slot_id] is not None:
                continue
            var = paths[original] if 0 <= original < len(paths) else None
            label = f"{ref.slot_name}[{'.'.join(var) if var else original}]"
            paths[slot_id] = [*owner, label]


def _build_tf2(model: SavedModel) -> None:
    graph = model.meta_graph.object_graph_def
    paths = _paths(graph)
    keys = _checkpoint_keys(model, paths)
    _slot_paths(graph, paths)
    make = model.classes
    concrete = {
        name: make.concrete_function(model, name, proto) for name, proto in graph.concrete_functions.items()
    }
    assets = model.meta_graph.asset_file_def
    objects: list[Trackable] = []
    for node_id, node in enumerate(graph.nodes):
        path = ".".join(paths[node_id] or []) if paths[node_id] is not None else f"<unreachable {node_id}>"
        kind = node.WhichOneof("kind")
        obj: Trackable
        if kind == "variable":
            v = node.variable
            obj = Variable(
                model, node_id, path, name=_tensor_name(v.name or path), dtype=dtypes.dtype_name(v.dtype),
                shape=shape_of(v.shape), trainable=v.trainable, checkpoint_key=keys.get(node_id),
                device=v.device,
            )
            model.variables.append(obj)  # type: ignore[arg-type]
        elif kind == "function":
            fns = [
                concrete.get(n) or make.concrete_function(model, n, None) for n in node.function.concrete_functions
            ]
            obj = make.function(model, node_id, path, fns)
            _spec(obj, node.function.function_spec)
        elif kind == "bare_concrete_function":
            b = node.bare_concrete_function
            name = b.concrete_function_name
            fn = concrete.get(name) or make.concrete_function(model, name, None)
            obj = make.bare_concrete_function(model, node_id, path, fn, list(b.argument_keywords))
            _spec(obj, b.function_spec)
        elif kind == "asset":
            index = node.asset.asset_file_def_index
            filename = assets[index].filename if 0 <= index < len(assets) else None
            obj = Asset(model, node_id, path, filename)
        elif kind == "constant":
            obj = Constant(model, node_id, path, node.constant.operation)
        elif kind == "resource":
            obj = Resource(model, node_id, path, node.resource.device)
        elif kind == "captured_tensor":
            c = node.captured_tensor
            obj = CapturedTensor(model, node_id, path, c.name, c.concrete_function)
        elif node_id == 0:
            obj = make.root(model, node_id, path, node.user_object.identifier)
        else:
            obj = UserObject(model, node_id, path, node.user_object.identifier)
        objects.append(obj)
    for node_id, node in enumerate(graph.nodes):
        for ref in node.children:
            if 0 <= ref.node_id < len(objects):
                objects[node_id]._children[ref.local_name] = objects[ref.node_id]
    model.objects = objects
    _link_signatures(model)


def _spec(obj: Function | BareConcreteFunction, spec: objects_pb2.FunctionSpec) -> None:
    if spec.HasField("fullargspec"):
        obj.set_spec(specs.decode(spec.fullargspec), spec.is_method)


def _link_signatures(model: SavedModel) -> None:
    """Point each SignatureDef at the function in the root's signature map."""
    root = model.root
    signature_map = root._children.get("signatures") if root is not None else None
    if signature_map is None:
        return
    for key, signature in model.signature_defs.items():
        target = signature_map._children.get(key)
        fns = getattr(target, "concrete_functions", None)
        if fns:
            signature.concrete_function = fns[0]


# ---- TF1 ----

def variable_defs(model: SavedModel, collection: str) -> list[objects_pb2.VariableDef]:
    entry = model.meta_graph.collection_def.get(collection)
    if entry is None or entry.WhichOneof("kind") != "bytes_list":
        return []
    out = []
    for raw in entry.bytes_list.value:
        proto = objects_pb2.VariableDef()
        try:
            proto.ParseFromString(raw)
        except DecodeError:
            continue
        out.append(proto)
    return out


def _build_tf1(model: SavedModel) -> None:
    trainable_names = {d.variable_name for d in variable_defs(model, "trainable_variables")}
    defs = variable_defs(model, "variables")
    if defs:
        found = [
            (d.variable_name, d.save_slice_info_def.full_name, d.trainable or d.variable_name in trainable_names)
            for d in defs
        ]
    else:  # no collections: every variable op in the graph
        found = [
            (f"{n.name}:0", "", False) for n in model.meta_graph.graph_def.node if n.op in VARIABLE_OPS
        ]
    entries = model.checkpoint.entries if model.checkpoint is not None else {}
    for name, full_name, trainable in found:
        op_name = name.split(":")[0]
        node = model.nodes_by_name.get(op_name)
        key = full_name or op_name
        dtype, shape = "invalid", None
        if node is not None:
            if "dtype" in node.attr:
                dtype = dtypes.dtype_name(node.attr["dtype"].type)
            if "shape" in node.attr:
                shape = shape_of(node.attr["shape"].shape)
        if key in entries and (dtype == "invalid" or shape is None):
            dtype, shape = entries[key].dtype_name, entries[key].shape
        model.variables.append(
            Variable(
                model, None, op_name, name=name, dtype=dtype, shape=shape,
                trainable=trainable, checkpoint_key=key,
                device=node.device if node is not None else "",
            )
        )


def _tensor_name(name: str) -> str:
    """TF names a restored variable after its value tensor: "kernel" -> "kernel:0"."""
    return name if name.rpartition(":")[2].isdigit() else f"{name}:0"
