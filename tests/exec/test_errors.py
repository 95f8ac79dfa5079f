"""A problem with the model is a SavedModelError naming the node; a bug of ours is not.

Kernels and handlers report the model's faults as typed errors; NumPy's own
complaints about the model's data count too. Anything else (a TypeError,
IndexError, AttributeError, AssertionError...) keeps its type and traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sm_explorer._proto import graph_pb2
from sm_explorer.core.loader import open_saved_model
from sm_explorer.errors import LimitError, SavedModelError
from sm_explorer.exec import registry
from sm_explorer.exec.errors import ExecutionError
from sm_explorer.exec.registry import BudgetError, KernelError
from sm_explorer.exec.session import Session
from sm_explorer.export import Signature, write_saved_model

FLOAT = 1


def _graph(*nodes: tuple[str, str, list[str]]) -> graph_pb2.GraphDef:
    graph = graph_pb2.GraphDef()
    graph.node.add(name="x", op="Placeholder").attr["dtype"].type = FLOAT
    for name, op, inputs in nodes:
        graph.node.add(name=name, op=op, input=inputs).attr["T"].type = FLOAT
    return graph


def _run(tmp_path: Path, graph: graph_pb2.GraphDef, fetch: str) -> list[np.ndarray]:
    path = write_saved_model(tmp_path / "m", graph, Signature({"x": ("x:0", "float32", None)}, {}))
    return Session(open_saved_model(path)).run_graph({"x:0": np.ones([2, 3], np.float32)}, [fetch])


@pytest.fixture
def relu_graph() -> graph_pb2.GraphDef:
    return _graph(("act", "Relu", ["x"]), ("out", "Identity", ["act"]))


def _replace_kernel(monkeypatch: pytest.MonkeyPatch, op: str, error: Exception) -> None:
    def broken(ctx, x):  # type: ignore[no-untyped-def]
        raise error

    registry.lookup(op)  # the registry is filled
    monkeypatch.setitem(registry._KERNELS, op, broken)


def test_kernel_errors_are_in_the_family() -> None:
    assert issubclass(KernelError, ExecutionError) and issubclass(KernelError, SavedModelError)
    assert issubclass(BudgetError, KernelError) and issubclass(BudgetError, LimitError)
    with pytest.raises(KernelError):  # `except KernelError` call sites still work
        raise BudgetError("too big")


def test_a_kernel_error_names_the_node(tmp_path: Path, relu_graph, monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_kernel(monkeypatch, "Relu", KernelError("the inputs make no sense"))
    with pytest.raises(ExecutionError, match=r"node 'act' \(Relu\).*the inputs make no sense"):
        _run(tmp_path, relu_graph, "out:0")


def test_a_budget_error_is_a_limit_error_naming_the_node(tmp_path: Path, relu_graph, monkeypatch) -> None:
    _replace_kernel(monkeypatch, "Relu", BudgetError("Relu would create 10**12 elements"))
    with pytest.raises(LimitError, match=r"node 'act' \(Relu\)"):
        _run(tmp_path, relu_graph, "out:0")


@pytest.mark.parametrize("error", [TypeError("bad call"), IndexError("list index"), AttributeError("no .shape"),
                                   AssertionError("invariant"), KeyError("attr")])
def test_a_bug_in_a_kernel_is_not_blamed_on_the_file(tmp_path: Path, relu_graph, monkeypatch, error) -> None:
    _replace_kernel(monkeypatch, "Relu", error)
    with pytest.raises(type(error)) as caught:
        _run(tmp_path, relu_graph, "out:0")
    assert not isinstance(caught.value, SavedModelError)
    assert caught.value is error  # the very exception, traceback and all
    assert any(frame.name == "broken" for frame in caught.traceback)
    if sys.version_info >= (3, 11):
        assert "while running node 'act' (Relu)" in "\n".join(caught.value.__notes__)


def test_a_bug_inside_a_real_kernel_keeps_its_type(tmp_path: Path, relu_graph, monkeypatch) -> None:
    """Through the kernels' own guard (``_util.op``), not just the interpreter."""
    import sm_explorer.exec.kernels.nn as nn_kernels

    def broken(*args):  # type: ignore[no-untyped-def]
        raise TypeError("a bug in a helper")

    monkeypatch.setattr(nn_kernels, "relu", broken)
    with pytest.raises(TypeError, match="a bug in a helper"):
        _run(tmp_path, relu_graph, "out:0")


def test_numpy_refusing_the_models_data_is_the_models_problem(tmp_path: Path) -> None:
    graph = _graph(("shape", "Const", []), ("r", "Reshape", ["x", "shape"]))
    shape = graph.node[1]
    del shape.attr["T"]
    shape.attr["dtype"].type = 3
    shape.attr["value"].tensor.dtype = 3
    shape.attr["value"].tensor.tensor_shape.dim.add(size=1)
    shape.attr["value"].tensor.int_val.append(7)  # 6 elements do not make 7
    with pytest.raises(ExecutionError, match="node 'r' \\(Reshape\\)"):
        _run(tmp_path, graph, "r:0")


def test_a_node_with_the_wrong_number_of_inputs(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match=r"node 'add' \(AddV2\).* has 1 inputs; AddV2 takes 2"):
        _run(tmp_path, _graph(("add", "AddV2", ["x"])), "add:0")
    with pytest.raises(ExecutionError, match=r"node 'read' \(ReadVariableOp\).* has 0 inputs"):
        _run(tmp_path / "2", _graph(("read", "ReadVariableOp", [])), "read:0")
