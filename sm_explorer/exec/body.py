"""What the interpreter runs: a graph-layer ``Graph``, seen as a run body.

The graph model (``sm_explorer.graph``) parses NodeDef inputs, resolving
function-style ``node:arg:index`` references through the op signatures; a
``Body`` only borrows its nodes and resolved inputs (no copies, no parsing)
and adds what the interpreter keeps per body: decoded attrs, consumers,
output counts and cached static values. Function inputs are the graph's
``_Arg`` nodes, fed by ``TensorRef(arg, 0)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sm_explorer._proto import graph_pb2
from sm_explorer.exec.attrs import decode_attrs
from sm_explorer.exec.errors import ExecutionError
from sm_explorer.graph.graph import Graph, parse_tensor_name
from sm_explorer.graph.library import Library
from sm_explorer.graph.nodes import Node, TensorRef, parse_input

__all__ = ["Body", "Ref", "run_body", "graph_body", "function_body"]

Ref = TensorRef


@dataclass
class Body:
    name: str  # "graph" or the function's name
    nodes: dict[str, Node]
    inputs: dict[str, list[Ref]]
    controls: dict[str, list[str]]
    args: list[str] = field(default_factory=list)  # the _Arg nodes a call feeds, in order
    outputs: list[Ref] = field(default_factory=list)
    control_outputs: list[str] = field(default_factory=list)
    _attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _users: dict[str, list[str]] | None = None
    output_counts: dict[str, int] = field(default_factory=dict)  # filled by the interpreter
    # Values that depend only on constants and variables, kept by the interpreter between
    # calls: node -> (variable writes and handles when computed, outputs).
    static_values: dict[str, tuple[Any, tuple[Any, ...]]] = field(default_factory=dict)

    def users(self) -> dict[str, list[str]]:
        """Each node's consumers, one entry per data or control edge."""
        if self._users is None:
            users: dict[str, list[str]] = {}
            for name, refs in self.inputs.items():
                for ref in refs:
                    users.setdefault(ref[0], []).append(name)
                for ctrl in self.controls[name]:
                    users.setdefault(ctrl, []).append(name)
            self._users = users
        return self._users

    def attrs(self, node: Node) -> dict[str, Any]:
        cached = self._attrs.get(node.name)
        if cached is None:
            cached = self._attrs[node.name] = decode_attrs(node.proto, f"node {node.name!r} of {self.name}")
        return cached

    def parse_ref(self, text: str) -> Ref:
        """A graph-style tensor name ("x", "x:1") as a Ref, checked."""
        ref = parse_tensor_name(text) if ":" in text else parse_input(text)
        if not isinstance(ref, TensorRef) or ref.node not in self.nodes or not ref.known:
            raise ExecutionError(f"{self.name} has no tensor {text!r}")
        return ref


def run_body(graph: Graph, name: str | None = None, nodes: dict[str, Node] | None = None) -> Body:
    """``graph`` as a run body; with ``nodes``, a part of it (a pruned subgraph, some
    nodes replaced), run as a graph: its inputs are what the caller feeds.

    A function's references must resolve: one to an output argument of an op nothing
    describes is taken as its first output when it asks for index 0, as before."""
    name = name or graph.name
    function = graph.kind != "graph"
    part = nodes is not None
    nodes = graph.nodes if nodes is None else nodes
    signatures = graph.library.signatures

    def checked(ref: TensorRef) -> TensorRef:
        producer = graph.nodes.get(ref.node)
        if ref.known and (producer is not None or not function):
            return ref
        if producer is not None and ref.index == 0 and not signatures.layout(producer.proto):
            return TensorRef(ref.node, 0)  # unknown op: assume its first output
        raise ExecutionError(f"function {name} refers to {ref.name!r}, which it does not define")

    inputs: dict[str, list[Ref]] = {}
    controls: dict[str, list[str]] = {}
    for node_name, node in nodes.items():
        refs = node.inputs
        if function or not all(ref.known for ref in refs):
            refs = [checked(ref) for ref in refs]
        inputs[node_name], controls[node_name] = refs, node.control_inputs
    body = Body(name, nodes, inputs, controls)
    if function and not part:
        body.args = [n for n in graph.inputs if n in nodes]
        fdef = graph.library.functions.get(graph.function or "")
        for arg in fdef.signature.output_arg if fdef is not None else ():
            ref = graph.outputs.get(arg.name)
            if ref is None:
                raise ExecutionError(f"function {name} does not say what its output {arg.name!r} is")
            body.outputs.append(checked(ref))
        body.control_outputs = [c for c in graph.control_outputs if c in nodes]
    return body


def function_body(library: Library, name: str) -> Body:
    """Library function ``name`` as a run body (its graph is the library's, shared)."""
    if name not in library.functions:
        raise ExecutionError(f"the model has no function {name!r}")
    return run_body(library.function_graph(name))


def graph_body(graph_def: graph_pb2.GraphDef) -> Body:
    """A bare GraphDef as a run body (built by the graph layer; for tests and tools)."""
    from sm_explorer.graph.build import build_graph_def

    return run_body(build_graph_def(Library(graph_def), graph_def))
