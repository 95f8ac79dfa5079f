"""Building graphs: a GraphDef as it is, a function body, or a function flattened.

Flattening inlines every (Stateful)PartitionedCall and direct call (a node
whose op is a function name) recursively, as TensorFlow's inliner does:
inner nodes are renamed ``call/inner``, the callee's inputs are wired to the
call's inputs, and the call node itself becomes an ``IdentityN`` of the
callee's outputs with control inputs on its control outputs, so the names
``call:0`` and ``^call`` keep their meaning. A call with control inputs gets
an ``input_control_node`` every body node waits on. Control-flow ops (If,
While, Case) keep their functions. Recursion and depth stop inlining that
call (it stays a call node, and a note says why); a node budget stops
exponential blow-up with a ``LimitError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sm_explorer._proto import graph_pb2
from sm_explorer.errors import LimitError
from sm_explorer.graph.graph import Graph
from sm_explorer.graph.nodes import CALL_OPS, Node, Origin, TensorRef, parse_input

if TYPE_CHECKING:
    from sm_explorer.graph.library import Library

__all__ = ["build_graph_def", "build_function", "MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 64
MAX_NODES = 2_000_000


def build_graph_def(library: Library, graph_def: graph_pb2.GraphDef, name: str = "graph") -> Graph:
    """The outer graph: graph-style references (``node``, ``node:1``, ``^ctrl``)."""
    graph = Graph(library, name, "graph")
    functions = library.functions
    cache: dict[str, TensorRef | str] = {}
    for nd in graph_def.node:
        inputs: list[TensorRef] = []
        controls: list[str] = []
        for text in nd.input:
            ref = cache.get(text)
            if ref is None:
                ref = cache[text] = parse_input(text)
            if isinstance(ref, str):
                controls.append(ref)
            else:
                inputs.append(ref)
        if nd.name in graph.nodes:
            graph.notes.append(f"two nodes are called {nd.name!r}; the later one is kept")
        graph.nodes[nd.name] = Node(nd.name, nd.op, nd, inputs, controls, Origin(None, nd.name), nd.op in functions)
        if nd.op == "Placeholder":
            graph.inputs.append(nd.name)
    return graph


def build_function(
    library: Library, name: str, *, inline: bool = False, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES
) -> Graph:
    """One library function as a graph (its inputs are ``_Arg`` nodes); with
    ``inline``, every call in it is inlined recursively."""
    fdef = library.functions[name]
    graph = Graph(library, name, "flattened" if inline else "function", name)
    builder = _Builder(graph, library, inline, max_depth, max_nodes)
    arg_map = builder.add_args(fdef)
    outputs, control_outputs = builder.add_body(fdef, "", arg_map, (name,), None)
    graph.outputs = {arg.name: outputs[arg.name] for arg in fdef.signature.output_arg if arg.name in outputs}
    graph.control_outputs = control_outputs
    if builder.unknown:
        graph.notes.append(
            f"{builder.unknown} input reference(s) name an output argument of an op nothing describes; "
            "their flat index is unknown (kept as node:arg:index)"
        )
    return graph


def _arg_proto(fdef: graph_pb2.FunctionDef, index: int, arg: graph_pb2.OpDef.ArgDef) -> graph_pb2.NodeDef:
    """A stand-in NodeDef for a function input, as TF's own ``_Arg`` ops look."""
    proto = graph_pb2.NodeDef(name=arg.name, op="_Arg")
    if arg.type:
        proto.attr["T"].type = arg.type
    proto.attr["index"].i = index
    if index in fdef.arg_attr and "_output_shapes" in fdef.arg_attr[index].attr:
        proto.attr["_output_shapes"].CopyFrom(fdef.arg_attr[index].attr["_output_shapes"])
    elif "_input_shapes" in fdef.attr and index < len(fdef.attr["_input_shapes"].list.shape):
        proto.attr["_output_shapes"].list.shape.add().CopyFrom(fdef.attr["_input_shapes"].list.shape[index])
    if arg.handle_data:
        proto.attr["_handle_dtypes"].list.type.extend(h.dtype for h in arg.handle_data)
        proto.attr["_handle_shapes"].list.shape.extend(h.shape for h in arg.handle_data)
    return proto


class _Builder:
    def __init__(self, graph: Graph, library: Library, inline: bool, max_depth: int, max_nodes: int) -> None:
        self.graph = graph
        self.functions = library.functions
        self.signatures = library.signatures
        self.inline = inline
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.taken: set[str] = set()
        self.unknown = 0

    def reserve(self, name: str) -> str:
        """``name``, or ``name_1``... if a node already has it."""
        if name not in self.taken:
            self.taken.add(name)
            return name
        i = 1
        while f"{name}_{i}" in self.taken:
            i += 1
        self.taken.add(f"{name}_{i}")
        return f"{name}_{i}"

    def add(self, node: Node) -> None:
        self.graph.nodes[node.name] = node
        if len(self.graph.nodes) > self.max_nodes:
            raise LimitError(
                f"flattening {self.graph.name!r} makes more than {self.max_nodes} nodes "
                "(raise max_nodes to allow it)"
            )

    def add_args(self, fdef: graph_pb2.FunctionDef) -> dict[str, TensorRef]:
        name = fdef.signature.name
        arg_map = {}
        for i, arg in enumerate(fdef.signature.input_arg):
            node_name = self.reserve(arg.name)
            self.add(Node(node_name, "_Arg", _arg_proto(fdef, i, arg), [], [], Origin(name, arg.name)))
            self.graph.inputs.append(node_name)
            arg_map[arg.name] = TensorRef(node_name, 0)
        return arg_map

    def callee(self, nd: graph_pb2.NodeDef, stack: tuple[str, ...], where: str) -> str | None:
        """The function to inline at ``nd``, or None (and a note if it is refused)."""
        if nd.op in CALL_OPS:
            f = nd.attr.get("f")
            target = f.func.name if f is not None else ""
        elif nd.op in self.functions:
            target = nd.op
        else:
            return None
        if target not in self.functions:
            return None
        if target in stack:
            self.graph.notes.append(f"{where}: not inlined, {target!r} calls itself (recursion)")
            return None
        if len(stack) > self.max_depth:
            self.graph.notes.append(f"{where}: not inlined, calls nest deeper than {self.max_depth}")
            return None
        return target

    def add_body(
        self,
        fdef: graph_pb2.FunctionDef,
        caller: str,
        arg_map: dict[str, TensorRef],
        stack: tuple[str, ...],
        start: str | None,
    ) -> tuple[dict[str, TensorRef], list[str]]:
        """Add the nodes of ``fdef`` (renamed under ``caller``); return its outputs
        (output name -> tensor) and control outputs."""
        fname = fdef.signature.name
        prefix = f"{caller}/" if caller else ""
        local = {nd.name: nd for nd in fdef.node_def}
        names = {n: self.reserve(prefix + n) for n in local}
        signatures = self.signatures
        cache: dict[str, TensorRef] = {}

        def resolve(parsed: TensorRef) -> TensorRef:
            node, index, arg = parsed
            if arg is None:
                base = arg_map.get(node)
                if base is not None:  # a function input, or one element of a list input
                    return TensorRef(base.node, base.index + index, base.arg)
                return TensorRef(names.get(node, prefix + node), index)
            producer = local.get(node)
            flat = signatures.flat_index(producer, arg, index) if producer is not None else None
            if flat is None:
                self.unknown += 1
                return TensorRef(names.get(node, prefix + node), index, arg)
            return TensorRef(names[node], flat)

        local_names = set(names.values())
        for nd in fdef.node_def:
            inputs: list[TensorRef] = []
            controls: list[str] = []
            for text in nd.input:
                ref = cache.get(text)
                if ref is None:
                    parsed = parse_input(text)
                    if isinstance(parsed, str):
                        target = parsed
                        controls.append(names[target] if target in names else
                                        arg_map[target].node if target in arg_map else prefix + target)
                        continue
                    ref = cache[text] = resolve(parsed)
                inputs.append(ref)
            if start is not None and not any(r.node in local_names for r in inputs) and not any(
                c in local_names for c in controls
            ):
                controls.append(start)  # a root of the body waits for the call's control inputs
            gname = names[nd.name]
            origin = Origin(fname, nd.name, caller)
            target = self.callee(nd, stack, gname) if self.inline else None
            if target is not None:
                self.inline_call(nd, gname, target, inputs, controls, stack, origin)
            else:
                self.add(Node(gname, nd.op, nd, inputs, controls, origin, nd.op in self.functions))
        outputs = {}
        for key, text in fdef.ret.items():
            ref = cache.get(text)
            if ref is None:
                parsed = parse_input(text)  # "^x" is no output: a reference to no node
                ref = resolve(parsed) if isinstance(parsed, TensorRef) else TensorRef(prefix + text, 0)
            outputs[key] = ref
        control_outputs = [names.get(n, prefix + n) for n in fdef.control_ret.values()]
        return outputs, control_outputs

    def inline_call(
        self,
        nd: graph_pb2.NodeDef,
        gname: str,
        target: str,
        inputs: list[TensorRef],
        controls: list[str],
        stack: tuple[str, ...],
        origin: Origin,
    ) -> None:
        callee = self.functions[target]
        sig = callee.signature
        if len(sig.input_arg) != len(inputs):
            self.graph.notes.append(
                f"{gname}: not inlined, it passes {len(inputs)} inputs to {target!r} which takes {len(sig.input_arg)}"
            )
            self.add(Node(gname, nd.op, nd, inputs, controls, origin, nd.op in self.functions))
            return
        start = None
        if controls:
            start = self.reserve(f"{gname}/input_control_node")
            self.add(Node(start, "NoOp", graph_pb2.NodeDef(name=start, op="NoOp"), [], controls, origin))
        sub_map = {arg.name: inputs[i] for i, arg in enumerate(sig.input_arg)}
        outputs, control_outputs = self.add_body(callee, gname, sub_map, (*stack, target), start)
        refs = [outputs.get(arg.name) or TensorRef(f"{gname}/{arg.name}", 0) for arg in sig.output_arg]
        proto = graph_pb2.NodeDef(name=gname, op="IdentityN" if refs else "NoOp", device=nd.device)
        if refs:
            tout = nd.attr.get("Tout")
            types = list(tout.list.type) if tout is not None else []
            if len(types) != len(refs):
                types = [arg.type for arg in sig.output_arg]
            proto.attr["T"].list.type.extend(types)
            if "_output_shapes" in nd.attr:
                proto.attr["_output_shapes"].CopyFrom(nd.attr["_output_shapes"])
        self.add(Node(gname, proto.op, proto, refs, control_outputs, origin))
        self.graph.inlined[gname] = target
