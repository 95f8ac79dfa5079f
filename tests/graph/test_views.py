"""The derived views: op signatures, categories, name scopes, variable links."""

from __future__ import annotations

import pytest

from sm_explorer.core.files import locate, parse_saved_model
from sm_explorer.core.loader import open_saved_model
from sm_explorer.graph import CATEGORIES, category, flatten, graph_of
from sm_explorer.graph.opdefs import BUILTIN_OUTPUTS, OutArg, parse_spec
from sm_explorer.graph.scopes import scope_tree
from tests.corpus.expected import tf_cannot_parse
from tests.helpers import fixture_model


def test_builtin_table_agrees_with_every_saved_op_def(corpus):
    """Every op the corpus saves an OpDef for, and our table lists, has the same outputs."""
    checked = 0
    for path in sorted(p for p in corpus.iterdir() if p.is_dir() and p.name != "EXPECTED"):
        if tf_cannot_parse(path):
            continue  # broken on purpose; tests/corpus checks that it fails as it should
        proto = parse_saved_model(locate(path))
        for meta_graph in proto.meta_graphs:
            for op in meta_graph.meta_info_def.stripped_op_list.op:
                if op.name not in BUILTIN_OUTPUTS:
                    continue
                real = tuple(
                    OutArg(a.name, a.type, a.type_attr, a.number_attr, a.type_list_attr, a.is_ref)
                    for a in op.output_arg
                )
                assert parse_spec(BUILTIN_OUTPUTS[op.name]) == real, op.name
                checked += 1
    assert checked > 500


def test_spec_mini_language():
    assert parse_spec("") == ()
    assert parse_spec("y:T,idx:out_idx") == (OutArg("y", type_attr="T"), OutArg("idx", type_attr="out_idx"))
    assert parse_spec("output:num_split*T") == (OutArg("output", type_attr="T", number_attr="num_split"),)
    assert parse_spec("output:[Tout]") == (OutArg("output", type_list_attr="Tout"),)
    assert parse_spec("z:bool") == (OutArg("z", dtype=10),)
    assert parse_spec("ref:dtype&") == (OutArg("ref", type_attr="dtype", is_ref=True),)


def test_categories():
    assert category("Conv2D") == "nn"
    assert category("MatMul") == "math"
    assert category("Reshape") == "array"
    assert category("StatelessWhile") == "control_flow"
    assert category("ReadVariableOp") == "variable"
    assert category("RestoreV2") == "io"
    assert category("StatefulPartitionedCall") == "function_call"
    assert category("anything", is_function=True) == "function_call"
    assert category("StringJoin") == "string"
    assert category("Const") == "constant"
    assert category("Placeholder") == category("_Arg") == "input"
    assert category("ResourceSparseApplyAdagradV2") == "variable"  # by name pattern
    assert category("SimpleMLInferenceOpWithHandle") == "other"
    assert len(CATEGORIES) == 11


def test_scope_tree():
    root = scope_tree(["a/b/c", "a/b/d", "a/e", "f", "a/b"])
    assert root.count == 5 and root.nodes == ["f"]
    a = root.find("a")
    assert a.count == 4 and a.nodes == ["a/e", "a/b"]
    assert root.find("a/b").count == 2 and root.find("a/b").path == "a/b"
    assert root.find("a/x") is None
    assert [s.path for s in root.walk()] == ["", "a", "a/b"]
    assert root.to_dict(depth=1)["children"] == [{"name": "a", "count": 4, "nodes": 2}]


def test_resnet_like_scopes_on_keras3():
    graph = flatten(open_saved_model(fixture_model("keras3_export")), "serving_default")
    cnn = graph.scopes().find("StatefulPartitionedCall/tiny_cnn_1")
    assert set(cnn.children) >= {"conv_a_1", "bn_1", "hidden_1", "probs_1"}
    assert cnn.find("hidden_1").count == 5


def test_tf1_variables_link_by_name(corpus):
    model = open_saved_model(corpus / "tensorflow__half_plus_two")
    graph = graph_of(model)
    for name in ("a", "a/read", "a/Assign"):
        binding = graph.variable_of(name)
        assert binding.variable.name == "a:0" and binding.checkpoint_key == "a"
    assert graph.variable_of("Mul") is None  # reads a/read's value, not the variable
    assert {b.checkpoint_key for b in graph.variable_links()["save/SaveV2"]} == {"a", "b", "c"}


def test_tf1_resource_variables(corpus):
    model = open_saved_model(corpus / "serving__saved_model_half_plus_two_cpu_with_saved_model_config")
    graph = graph_of(model)
    assert graph.variable_of("Mul/ReadVariableOp").checkpoint_key == "a"
    assert graph.node("a").op == "VarHandleOp"


def test_asset_placeholders_are_bound(corpus):
    model = open_saved_model(corpus / "tensorflow__StaticHashTableModule")
    graph = graph_of(model)
    bound = {name: b.asset for name, b in graph.bindings.items() if b.asset}
    assert bound == {
        "asset_path_initializer": "static_hashtable_asset.txt",
        "asset_path_initializer_1": "static_hashtable_asset.txt",
    }


@pytest.mark.parametrize("name", ["assets_hash_table", "dtypes_variables", "small_rnn", "stateful_counter"])
def test_tf2_concrete_function_captures(name):
    model = open_saved_model(fixture_model(name))
    for signature in model.signatures.values():
        fn = signature.concrete_function
        graph = flatten(model, signature)
        assert len(graph.captures) == len(fn.bound_inputs)
        for arg, node_id in zip(graph.inputs[len(graph.inputs) - len(fn.bound_inputs):], fn.bound_inputs):
            assert graph.captures[arg].obj is model.object_by_id(node_id)


def test_tf2_outer_handles_link_through_the_traced_saver():
    model = open_saved_model(fixture_model("keras2_saved"))
    graph = graph_of(model)
    handles = [n.name for n in graph if n.op == "VarHandleOp"]
    assert handles and all(name in graph.bindings for name in handles)
    count = graph.bindings["count"]
    assert count.variable.name == "count:0"
    assert count.checkpoint_key == "keras_api/metrics/0/count/.ATTRIBUTES/VARIABLE_VALUE"
    assert count.checkpoint_key in model.checkpoint.entries
    assert graph.variable_of("count/Read/ReadVariableOp") is count
