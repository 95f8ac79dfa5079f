"""Values that depend only on constants and variables are computed once and
reused between calls, until a variable is assigned."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sm_explorer._proto import graph_pb2
from sm_explorer.core.loader import open_saved_model
from sm_explorer.exec.session import Session
from sm_explorer.export import Signature, write_saved_model

FLOAT = 1


def add(graph: graph_pb2.GraphDef, name: str, op: str, inputs: list[str], **types: int) -> None:
    node = graph.node.add(name=name, op=op, input=inputs)
    for key, value in types.items():
        node.attr[key].type = value


def model(tmp_path: Path) -> Path:
    """y = x * (v + 1) * (v + 1); ``set`` assigns ``new`` to v."""
    graph = graph_pb2.GraphDef()
    add(graph, "x", "Placeholder", [], dtype=FLOAT)
    add(graph, "new", "Placeholder", [], dtype=FLOAT)
    one = graph.node.add(name="one", op="Const")
    one.attr["dtype"].type = FLOAT
    one.attr["value"].tensor.dtype = FLOAT
    one.attr["value"].tensor.float_val.append(1.0)
    add(graph, "read", "ReadVariableOp", ["v"], dtype=FLOAT)
    add(graph, "plus", "AddV2", ["read", "one"], T=FLOAT)
    add(graph, "square", "Mul", ["plus", "plus"], T=FLOAT)
    add(graph, "y", "Mul", ["x", "square"], T=FLOAT)
    add(graph, "set", "AssignVariableOp", ["v", "new"], dtype=FLOAT)
    add(graph, "read_after", "ReadVariableOp", ["v", "^set"], dtype=FLOAT)
    add(graph, "after", "AddV2", ["read_after", "one"], T=FLOAT)
    signature = Signature({"x": ("x:0", "float32", None)}, {"y": ("y:0", "float32", None)})
    return write_saved_model(tmp_path / "m", graph, signature, {"v": np.float32(2)})


def test_reused_between_calls_and_recomputed_after_an_assignment(tmp_path: Path) -> None:
    session = Session(open_saved_model(model(tmp_path)))
    x = np.float32([1, 2])
    assert session.run_graph({"x:0": x}, ["y:0"])[0].tolist() == [9, 18]
    body = session.interpreter.graph()
    assert {"plus", "square", "one", "read"} <= set(body.static_values)
    assert "y" not in body.static_values  # depends on the input
    assert session.run_graph({"x:0": x}, ["y:0"])[0].tolist() == [9, 18]
    session.run_graph({"new:0": np.float32(4)}, [], ["set"])
    assert session.run_graph({"x:0": x}, ["y:0"])[0].tolist() == [25, 50]
    # An assignment inside the run, ordered by a control edge, is seen by the read after it;
    # the next run sees it too.
    assert session.run_graph({"new:0": np.float32(9)}, ["after:0"])[0] == 10
    assert session.run_graph({"x:0": x}, ["y:0"])[0].tolist() == [100, 200]
