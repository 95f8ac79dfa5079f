"""The graph model of every model that parses: outer graph, every library
function, every signature flattened. Building must never crash, and every
reference must point at a node of the same graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from sm_explorer._proto import graph_pb2
from sm_explorer.core.files import locate, parse_saved_model
from sm_explorer.core.model import SavedModel
from sm_explorer.errors import SavedModelError
from sm_explorer.graph import CATEGORIES, flatten, function_graph, graph_of
from sm_explorer.graph.nodes import CALL_OPS
from tests.conftest import CORPUS, FIXTURES
from tests.corpus.expected import tf_cannot_parse

FIXTURE_MODELS = sorted(p.name for p in (FIXTURES / "models").iterdir() if p.is_dir())
CORPUS_MODELS = (
    sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "EXPECTED") if CORPUS.is_dir() else []
)


def _meta_graphs(path: Path) -> list[SavedModel]:
    if tf_cannot_parse(path):  # broken on purpose: it must fail, as a typed error
        with pytest.raises(SavedModelError):
            parse_saved_model(locate(path))
        return []
    files = locate(path)
    proto = parse_saved_model(files)
    return [SavedModel(files, proto, i) for i in range(len(proto.meta_graphs))]


def _check_graph(graph, expected_nodes: int) -> None:
    assert len(graph) == expected_nodes
    for node in graph:
        assert node.category in CATEGORIES
        for ref in node.inputs:
            assert ref.node in graph.nodes, f"{node.name} -> {ref.name}"
        for control in node.control_inputs:
            assert control in graph.nodes, f"{node.name} -> ^{control}"
        graph.output_dtypes(node)
    scopes = graph.scopes()
    assert scopes.count == len(graph)
    assert sum(len(s.nodes) for s in scopes.walk()) == len(graph)
    for site in graph.call_sites():
        assert site.callees
    graph.variable_links()
    assert set(graph.category_counts()) <= set(CATEGORIES)


def _defined_names(model: SavedModel) -> dict[str, set[str]]:
    """Function -> the names its body and inputs define."""
    return {
        name: {n.name for n in f.node_def} | {a.name for a in f.signature.input_arg}
        for name, f in model.functions.items()
    }


def _check_model(model: SavedModel) -> None:
    defined = _defined_names(model)
    graph = graph_of(model)
    _check_graph(graph, len({n.name for n in model.graph_def.node}))
    for name, fdef in model.functions.items():
        fg = function_graph(model, name)
        _check_graph(fg, len(fdef.node_def) + len(fdef.signature.input_arg))
        assert set(fg.outputs) <= {a.name for a in fdef.signature.output_arg}
        for site in fg.call_sites():
            if site.op in CALL_OPS or site.kind == "call":
                assert all(f in model.functions for f in site.functions)
        flat = flatten(model, name)
        for node in flat:
            assert node.origin.node in defined[node.origin.function]
            if node.op in CALL_OPS:  # only calls that could not be inlined remain
                assert any(node.name in note for note in flat.notes)
        for ref in flat.outputs.values():
            assert ref.node in flat.nodes


def _each(path: Path) -> None:
    models = _meta_graphs(path)
    for model in models:
        _check_model(model)


@pytest.mark.parametrize("name", FIXTURE_MODELS)
def test_fixture_graphs(name):
    _each(FIXTURES / "models" / name)


@pytest.mark.parametrize("name", CORPUS_MODELS)
def test_corpus_graphs(corpus, name):
    _each(corpus / name)


def test_every_signature_flattens(corpus):
    count = 0
    for name in CORPUS_MODELS:
        for model in _meta_graphs(corpus / name):
            for signature in model.signature_defs.values():
                graph = flatten(model, signature)
                assert graph.kind == ("graph" if signature.concrete_function is None else "flattened")
                count += 1
    assert count > 80


def test_graph_style_references():
    from sm_explorer.graph import graph_from_graph_def
    from tests.graph.synth import FLOAT, graph_def, node

    g = graph_from_graph_def(graph_def([
        node("x", "Placeholder", dtype=FLOAT),
        node("s", "Split", ["dim", "x"], num_split=("i", 3), T=FLOAT),
        node("dim", "Const", dtype=3),
        node("y", "AddN", ["s", "s:2", "^x"], T=FLOAT),
    ]))
    y = g.node("y")
    assert [r.name for r in y.inputs] == ["s:0", "s:2"]
    assert y.control_inputs == ["x"]
    assert y.input_names() == ["s", "s:2", "^x"]
    assert g.output_dtypes(g.node("s")) == ["float32"] * 3
    assert g.tensor("s:1").dtype == "float32"
    assert g.consumers("s") == [("y", 0), ("y", 1)]
    assert g.consumers("x") == [("s", 1), ("y", -1)]
    assert g.inputs == ["x"]


def test_function_style_references_and_unknown_ops():
    from sm_explorer.graph.build import build_function
    from sm_explorer.graph.library import Library
    from tests.graph.synth import FLOAT, function, graph_def, node

    body = [
        node("split", "Split", ["dim:output:0", "x"], num_split=("i", 2), T=FLOAT),
        node("dim", "Const", dtype=3),
        node("fbn", "FusedBatchNormV3", ["x", "x", "x", "x", "x"], T=FLOAT, U=FLOAT),
        node("mystery", "MyCustomOp", ["split:output:1"]),
        node("add", "AddN", ["split:output:1", "fbn:batch_variance:0", "mystery:out:3"], T=FLOAT),
    ]
    fdef = function("f", [("x", FLOAT)], [("y", FLOAT)], body, {"y": "add:sum:0"})
    library = Library(graph_def([], [fdef]))
    g = build_function(library, "f")
    add = g.node("add")
    assert [r.name for r in add.inputs] == ["split:1", "fbn:2", "mystery:out:3"]
    assert not add.inputs[2].known
    assert g.node("split").inputs[1].name == "x:0" and g.node("x").op == "_Arg"
    assert g.outputs == {"y": add.inputs[0]._replace(node="add", index=0)}
    assert any("nothing describes" in note for note in g.notes)
    assert g.location("add") == ("f", "add")


def test_saved_op_list_wins_over_builtins():
    from sm_explorer.graph.opdefs import OpSignatures
    from tests.graph.synth import node

    op_list = graph_pb2.OpList()
    op = op_list.op.add(name="Twin")
    op.output_arg.add(name="a", type=1)
    op.output_arg.add(name="b", type=3)
    sigs = OpSignatures({}, op_list)
    twin = node("t", "Twin")
    assert sigs.flat_index(twin, "b", 0) == 1
    assert sigs.output_types(twin) == [1, 3]
    assert sigs.flat_index(node("u", "Unknown"), "out", 0) is None


@pytest.mark.parametrize("name", ["keras3_export", "small_rnn", "assets_hash_table", "tf1_partitioned"])
def test_nothing_writes_to_the_model_protos(name):
    from sm_explorer.core.loader import open_saved_model
    from sm_explorer.graph import signature_function

    model = open_saved_model(FIXTURES / "models" / name)
    before = model.meta_graph.SerializeToString(deterministic=True)
    _check_model(model)
    for key in model.signature_defs:
        pruned = signature_function(model, key)
        pruned.graph_def("placeholders")
        pruned.graph_def("constants")
        graph_of(model).variable_links()
    assert model.meta_graph.SerializeToString(deterministic=True) == before
