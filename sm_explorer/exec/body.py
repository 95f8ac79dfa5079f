"""A graph or function body, parsed once for evaluation.

References are resolved to (node, flat output index) pairs; function
arguments become ("@arg", i). Decoded attrs are cached per node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sm_explorer._proto import graph_pb2
from sm_explorer.exec.attrs import decode_attrs
from sm_explorer.exec.errors import ExecutionError
from sm_explorer.graph.opdefs import OpSignatures

__all__ = ["Body", "Ref", "ARG", "graph_body", "function_body"]

ARG = "@arg"
Ref = tuple[str, int]


@dataclass
class Body:
    name: str  # "graph" or the function's name
    nodes: dict[str, graph_pb2.NodeDef]
    inputs: dict[str, list[Ref]]
    controls: dict[str, list[str]]
    args: list[str] = field(default_factory=list)
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

    def attrs(self, node: graph_pb2.NodeDef) -> dict[str, Any]:
        cached = self._attrs.get(node.name)
        if cached is None:
            cached = self._attrs[node.name] = decode_attrs(node, f"node {node.name!r} of {self.name}")
        return cached

    def parse_ref(self, text: str) -> Ref:
        """A graph-style tensor name ("x", "x:1") as a Ref, checked."""
        name, _, index = text.partition(":")
        if name not in self.nodes or (index and not index.isdigit()):
            raise ExecutionError(f"{self.name} has no tensor {text!r}")
        return name, int(index or 0)


def graph_body(graph: graph_pb2.GraphDef) -> Body:
    nodes = {n.name: n for n in graph.node}
    inputs: dict[str, list[Ref]] = {}
    controls: dict[str, list[str]] = {}
    for node in graph.node:
        data, ctrl = [], []
        for ref in node.input:
            if ref.startswith("^"):
                ctrl.append(ref[1:])
                continue
            name, _, index = ref.partition(":")
            data.append((name, int(index) if index.isdigit() else 0))
        inputs[node.name], controls[node.name] = data, ctrl
    return Body("graph", nodes, inputs, controls)


def function_body(function: graph_pb2.FunctionDef, signatures: OpSignatures) -> Body:
    name = function.signature.name
    args = [a.name for a in function.signature.input_arg]
    arg_index = {a: i for i, a in enumerate(args)}
    nodes = {n.name: n for n in function.node_def}

    def resolve(ref: str) -> Ref:
        parts = ref.split(":")
        if len(parts) == 1:
            if ref in arg_index:
                return ARG, arg_index[ref]
            if ref in nodes:
                return ref, 0
        elif parts[0] in nodes:
            node = nodes[parts[0]]
            if len(parts) == 2 and parts[1].isdigit():
                return parts[0], int(parts[1])
            index = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
            flat = signatures.flat_index(node, parts[1], index)
            if flat is not None:
                return parts[0], flat
            if not signatures.layout(node) and index == 0:
                return parts[0], 0  # unknown op: assume its first output
        raise ExecutionError(f"function {name} refers to {ref!r}, which it does not define")

    inputs: dict[str, list[Ref]] = {}
    controls: dict[str, list[str]] = {}
    for node in function.node_def:
        data, ctrl = [], []
        for ref in node.input:
            if ref.startswith("^"):
                ctrl.append(ref[1:])
            else:
                data.append(resolve(ref))
        inputs[node.name], controls[node.name] = data, ctrl
    outputs = []
    for arg in function.signature.output_arg:
        if arg.name not in function.ret:
            raise ExecutionError(f"function {name} does not say what its output {arg.name!r} is")
        outputs.append(resolve(function.ret[arg.name]))
    control_outputs = [function.control_ret.get(c, c) for c in function.signature.control_output]
    control_outputs = [c for c in control_outputs if c in nodes]
    return Body(name, nodes, inputs, controls, args, outputs, control_outputs)
