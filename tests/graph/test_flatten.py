"""Flattening: inlined calls, stable names, origins, captures, recursion and limits."""

from __future__ import annotations

import pytest

from sm_explorer.core.loader import open_saved_model
from sm_explorer.errors import LimitError, SavedModelError
from sm_explorer.graph import Library, flatten, function_graph, graph_from_graph_def
from sm_explorer.graph.build import build_function
from sm_explorer.graph.nodes import CALL_OPS
from tests.graph.synth import FLOAT, function, graph_def, node
from tests.helpers import fixture_model

CNN = "StatefulPartitionedCall/tiny_cnn_1"


@pytest.fixture(scope="module")
def keras3():
    return open_saved_model(fixture_model("keras3_export"))


def callee(model, function: str, node: str, attr: str = "f") -> str:
    """The function a call node names, read from the FunctionDef itself: TF numbers its
    function names anew on every export, so tests never spell them out."""
    (found,) = [n for n in model.functions[function].node_def if n.name == node]
    return found.attr[attr].func.name


def keras3_call(model) -> str:
    """The Keras model's ``__call__`` body that serving_default calls."""
    return callee(model, model.signature_defs["serving_default"].concrete_function.name, "StatefulPartitionedCall")


def test_keras3_signature_flattens_to_readable_names(keras3):
    graph = flatten(keras3, "serving_default")
    assert graph.kind == "flattened"
    assert not [n for n in graph if n.op in CALL_OPS]
    relu = graph.node(f"{CNN}/hidden_1/Relu")
    assert relu.inputs[0].name == f"{CNN}/hidden_1/BiasAdd:0"
    assert graph.location(relu.name) == (keras3_call(keras3), "tiny_cnn_1/hidden_1/Relu")
    assert relu.origin.caller == "StatefulPartitionedCall"
    assert graph.tensor(f"{CNN}/hidden_1/Relu:0").shape == (None, 5)
    assert graph.tensor(f"{CNN}/hidden_1/Relu:0").dtype == "float32"
    # the call node stands for the callee's outputs: its names keep their meaning
    call = graph.node("StatefulPartitionedCall")
    assert call.op == "IdentityN" and call.inputs[0].name == "StatefulPartitionedCall/Identity:0"
    assert graph.inlined == {"StatefulPartitionedCall": keras3_call(keras3)}
    assert graph.outputs == {"identity": graph.node("Identity").inputs[0]._replace(node="Identity")}
    assert graph.inputs[0] == "image" and graph.tensor("image:0").shape == (None, 8, 8, 3)


def test_captured_inputs_are_bound_to_variables(keras3):
    graph = flatten(keras3, "serving_default")
    signature = keras3.signature_defs["serving_default"]
    bound = signature.concrete_function.bound_inputs
    captured = graph.inputs[1:]
    assert len(captured) == len(bound) == 12
    for arg, node_id in zip(captured, bound):
        binding = graph.captures[arg]
        assert binding.obj is keras3.object_by_id(node_id)
        assert binding.checkpoint_key == binding.variable.checkpoint_key
        assert binding.checkpoint_key in keras3.checkpoint.entries
    read = graph.variable_of(f"{CNN}/hidden_1/Cast/ReadVariableOp")
    assert read.variable.name == "hidden/kernel:0"
    links = graph.variable_links()
    reads = [n.name for n in graph if n.op == "ReadVariableOp"]
    assert reads and all(name in links for name in reads)


def test_outer_graph_var_handles_link_through_signature_calls(keras3):
    from sm_explorer.graph import graph_of

    graph = graph_of(keras3)
    binding = graph.variable_of("conv_a/kernel_1")
    assert binding is not None and binding.variable.name == "conv_a/kernel:0"
    calls = [node.name for node in graph if node.op == "StatefulPartitionedCall"]
    assert any(graph.variable_of(name) is not None for name in calls), calls


def test_control_flow_keeps_its_functions():
    model = open_saved_model(fixture_model("control_flow"))
    graph = flatten(model, "loop")
    sites = {s.node: s for s in graph.call_sites()}
    assert sites["StatefulPartitionedCall/while"].kind == "while"
    loop = callee(model, model.signature_defs["loop"].concrete_function.name, "StatefulPartitionedCall")
    assert set(sites["StatefulPartitionedCall/while"].callees) == {
        ("body", callee(model, loop, "while", "body")), ("cond", callee(model, loop, "while", "cond"))
    }
    assert sites["StatefulPartitionedCall"].callees == (("inlined", loop),)
    branch = flatten(model, "branch")
    kinds = {s.kind for s in branch.call_sites()}
    assert {"if", "call"} <= kinds


def _library(*functions, nodes=()):
    return Library(graph_def(nodes, functions))


def test_direct_calls_and_case_branch_lists():
    inner = function("inner", [("a", FLOAT)], [("out", FLOAT)], [node("neg", "Neg", ["a"], T=FLOAT)],
                     {"out": "neg:y:0"})
    outer = function(
        "outer", [("x", FLOAT), ("i", 3)], [("y", FLOAT), ("z", FLOAT)],
        [
            node("direct", "inner", ["x"]),
            node("case", "Case", ["i", "direct:out:0"], branches=("funcs", ["inner", "inner"]),
                 Tout=("types", [FLOAT])),
        ],
        {"y": "direct:out:0", "z": "case:output:0"},
    )
    library = _library(inner, outer)
    plain = build_function(library, "outer")
    sites = {s.node: s for s in plain.call_sites()}
    assert sites["direct"].callees == (("op", "inner"),) and sites["direct"].kind == "call"
    assert sites["case"].callees == (("branches[0]", "inner"), ("branches[1]", "inner"))
    assert sites["case"].kind == "case"
    flat = build_function(library, "outer", inline=True)
    assert flat.node("direct/neg").inputs[0].name == "x:0"
    assert flat.node("direct").op == "IdentityN"
    assert flat.node("case").op == "Case"  # branches stay functions
    assert flat.outputs["y"].name == "direct:0"


def test_call_control_inputs_reach_every_inlined_root():
    callee = function(
        "callee", [("a", FLOAT)], [("out", FLOAT)],
        [node("c", "Const", dtype=FLOAT), node("add", "AddV2", ["a", "c:output:0"], T=FLOAT)],
        {"out": "add:z:0"},
    )
    caller = function(
        "caller", [("x", FLOAT)], [("y", FLOAT)],
        [
            node("before", "NoOp"),
            node("call", "PartitionedCall", ["x", "^before"], f=("func", "callee"), Tout=("types", [FLOAT])),
            node("after", "Identity", ["call:output:0", "^call"], T=FLOAT),
        ],
        {"y": "after:output:0"},
    )
    flat = build_function(_library(callee, caller), "caller", inline=True)
    gate = flat.node("call/input_control_node")
    assert gate.op == "NoOp" and gate.control_inputs == ["before"]
    assert "call/input_control_node" in flat.node("call/c").control_inputs
    assert flat.node("call/add").control_inputs == []  # it waits through call/c, a root of the body
    pruned = flat.prune(["x:0"], "after:0")
    assert {"before", "call/input_control_node", "call/c", "call/add", "call", "after"} == set(pruned.nodes)


def _recursive_library():
    me = function("me", [("a", FLOAT)], [("out", FLOAT)],
                  [node("again", "StatefulPartitionedCall", ["a"], f=("func", "me"), Tout=("types", [FLOAT]))],
                  {"out": "again:output:0"})
    ping = function("ping", [("a", FLOAT)], [("out", FLOAT)], [node("p", "pong", ["a"])], {"out": "p:out:0"})
    pong = function("pong", [("a", FLOAT)], [("out", FLOAT)],
                    [node("q", "PartitionedCall", ["a"], f=("func", "ping"), Tout=("types", [FLOAT]))],
                    {"out": "q:output:0"})
    return _library(me, ping, pong)


@pytest.mark.parametrize("name,stuck", [("me", "again"), ("ping", "p/q")])
def test_recursion_stops_inlining_without_overflow(name, stuck):
    flat = build_function(_recursive_library(), name, inline=True)
    node_ = flat.node(stuck)
    assert node_.op in CALL_OPS or node_.is_function
    assert any("recursion" in note and stuck in note for note in flat.notes)
    assert flat.outputs["out"].node in flat.nodes


def test_depth_and_size_limits():
    chain = [function("f0", [("a", FLOAT)], [("out", FLOAT)], [node("n", "Neg", ["a"], T=FLOAT)], {"out": "n:y:0"})]
    for i in range(1, 40):  # each level calls the one below twice: 2**39 nodes if unbounded
        chain.append(function(
            f"f{i}", [("a", FLOAT)], [("out", FLOAT)],
            [node("l", f"f{i - 1}", ["a"]), node("r", f"f{i - 1}", ["l:out:0"])],
            {"out": "r:out:0"},
        ))
    library = _library(*chain)
    shallow = build_function(library, "f39", inline=True, max_depth=3)
    assert any("deeper than 3" in note for note in shallow.notes)
    with pytest.raises(LimitError, match="max_nodes"):
        build_function(library, "f39", inline=True, max_nodes=10_000)
    assert isinstance(LimitError("x"), SavedModelError)


def test_name_collisions_get_suffixes():
    callee = function("callee", [("a", FLOAT)], [("out", FLOAT)], [node("x", "Neg", ["a"], T=FLOAT)], {"out": "x:y:0"})
    caller = function(
        "caller", [("a", FLOAT)], [("y", FLOAT)],
        [node("call", "callee", ["a"]), node("call/x", "Identity", ["call:out:0"], T=FLOAT)],
        {"y": "call/x:output:0"},
    )
    flat = build_function(_library(callee, caller), "caller", inline=True)
    assert flat.node("call/x").op == "Identity"
    assert flat.node("call/x_1").op == "Neg"
    assert flat.node("call").inputs[0].name == "call/x_1:0"
    assert flat.outputs["y"].name == "call/x:0"


def test_graph_from_graph_def_and_function_graph_cache(keras3):
    name = keras3_call(keras3)
    assert function_graph(keras3, name) is function_graph(keras3, name)
    assert flatten(keras3, "serving_default") is flatten(keras3, keras3.signature_defs["serving_default"])
    g = graph_from_graph_def(graph_def([node("a", "Const", dtype=FLOAT)]))
    assert list(g.nodes) == ["a"] and g.kind == "graph"


def test_unknown_targets_suggest_names(keras3):
    from sm_explorer.graph import UnknownNameError

    with pytest.raises(UnknownNameError, match="serving_default"):
        flatten(keras3, "serving_defualt")
    name = keras3_call(keras3)
    with pytest.raises(UnknownNameError, match=name):
        function_graph(keras3, name[:-1])
    with pytest.raises(KeyError):
        flatten(keras3, "serving_default").node("Identityy")
