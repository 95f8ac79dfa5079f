"""Small builders for synthetic GraphDefs and FunctionDefs in graph tests.

Real models cover the common shapes; these cover what the corpus lacks:
recursion, Case with a list of branches, direct calls, deep nesting.
"""

from __future__ import annotations

from collections.abc import Iterable

from sm_explorer._proto import graph_pb2

__all__ = ["FLOAT", "RESOURCE", "node", "function", "graph_def", "layered_graph_def"]

FLOAT = 1
RESOURCE = 20


def node(name: str, op: str, inputs: Iterable[str] = (), **attrs: object) -> graph_pb2.NodeDef:
    """A NodeDef. Attr values: int -> type, ``("i", n)``, ``("func", name)``,
    ``("funcs", [names])``, ``("types", [types])``, ``("shapes", count)`` (unknown shapes)."""
    nd = graph_pb2.NodeDef(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        if isinstance(value, int):
            nd.attr[key].type = value
            continue
        kind, payload = value  # type: ignore[misc]
        if kind == "i":
            nd.attr[key].i = payload
        elif kind == "func":
            nd.attr[key].func.name = payload
        elif kind == "funcs":
            nd.attr[key].list.func.extend(graph_pb2.NameAttrList(name=n) for n in payload)
        elif kind == "types":
            nd.attr[key].list.type.extend(payload)
        elif kind == "shapes":
            for _ in range(payload):
                nd.attr[key].list.shape.add().unknown_rank = True
    return nd


def function(
    name: str,
    inputs: Iterable[tuple[str, int]],
    outputs: Iterable[tuple[str, int]],
    nodes: Iterable[graph_pb2.NodeDef],
    ret: dict[str, str],
    control_ret: dict[str, str] | None = None,
) -> graph_pb2.FunctionDef:
    fdef = graph_pb2.FunctionDef()
    fdef.signature.name = name
    for arg, dtype in inputs:
        fdef.signature.input_arg.add(name=arg, type=dtype)
    for arg, dtype in outputs:
        fdef.signature.output_arg.add(name=arg, type=dtype)
    fdef.node_def.extend(nodes)
    for key, value in ret.items():
        fdef.ret[key] = value
    for key, value in (control_ret or {}).items():
        fdef.control_ret[key] = value
        fdef.signature.control_output.append(key)
    return fdef


def graph_def(
    nodes: Iterable[graph_pb2.NodeDef], functions: Iterable[graph_pb2.FunctionDef] = ()
) -> graph_pb2.GraphDef:
    gd = graph_pb2.GraphDef(node=list(nodes))
    gd.library.function.extend(functions)
    gd.versions.producer = 1
    return gd


def layered_graph_def(num_nodes: int, scopes: tuple[int, int] = (20, 50)) -> graph_pb2.GraphDef:
    """A big scoped graph like a deep network: ``outer_i/inner_j/op_k`` nodes, each
    fed by the previous one and, now and then, by one a few steps back."""
    outer, inner = scopes
    per_block = -(-num_nodes // outer)
    per_layer = -(-per_block // inner)
    nodes = [node("input", "Placeholder", dtype=FLOAT)]
    previous = ["input"]
    for k in range(num_nodes - 1):
        name = f"block_{k // per_block}/layer_{(k % per_block) // per_layer}/op_{k}"
        inputs = [previous[-1]] + ([previous[-7]] if k % 7 == 0 and len(previous) > 7 else [])
        nodes.append(node(name, "AddV2" if len(inputs) > 1 else "Relu", inputs, T=FLOAT))
        previous.append(name)
    return graph_def(nodes)
