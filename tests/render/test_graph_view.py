"""Graph views: structure of the DOT (what is shown, folded, collapsed), highlights,
rendering every corpus model, and the size budget."""

from __future__ import annotations

import re

import pytest

import sm_explorer
from sm_explorer import graph
from sm_explorer.cli import main
from sm_explorer.render.collapse import plan
from sm_explorer.render.graph_view import GraphView, Highlight
from sm_explorer.render.view_for import view_for
from tests.conftest import CORPUS
from tests.corpus.expected import cases
from tests.graph.synth import layered_graph_def
from tests.helpers import fixture_model


def _nodes(dot: str) -> list[str]:
    return re.findall(r'^\s+(n\d+) \[id=', dot, flags=re.M)


def test_tf1_graph_shows_its_nodes_and_folds_bookkeeping():
    model = sm_explorer.open_saved_model(fixture_model("tf1_two_metagraphs"), tags="serve")
    g = graph.graph_of(model)
    folded, full = GraphView(g).to_dot(), GraphView(g, show_all=True).to_dot()
    assert len(_nodes(folded)) < len(_nodes(full))
    assert 'label="x\\nPlaceholder"' in full
    assert "folded" in folded


def test_flattened_keras_signature_shows_layers_with_shapes():
    model = sm_explorer.open_saved_model(fixture_model("keras3_export"))
    flat = graph.flatten(model, "serving_default")
    dot = GraphView(flat).to_dot()
    assert "Conv2D" in dot and "Softmax" in dot
    # dtype and shape are edge tooltips by default (no layout cost), labels on request
    assert re.search(r'tooltip="float32 \[\?,8,8,4\]"', dot) and not re.search(r'label="float32', dot)
    assert re.search(r'label="float32 \[\?,8,8,4\]"', GraphView(flat, edge_labels=True).to_dot())
    assert "cluster_legend" in dot


def test_marks_leave_the_layout_alone_and_map_to_boxes():
    model = sm_explorer.open_saved_model(fixture_model("keras3_export"))
    flat = graph.flatten(model, "serving_default")
    view = GraphView(flat)
    plain = view.to_dot(marks=False)
    reads = [n.name for n in flat if n.op == "ReadVariableOp"]  # folded into their users
    view.highlight = Highlight(feeds={"image:0"}, fetches={reads[0]}, hits={"Identity"}, selected=reads[1])
    assert view.to_dot(marks=False) == plain  # the same boxes, whatever is marked
    assert view.to_dot() != plain
    view.to_dot(marks=False)
    assert {view.ids[b] for b in view.box_ids(["image:0", "^Identity"])} == {"image", "Identity"}
    for read in reads:  # a folded read lights up the box it is folded into: its reader's
        (user,) = {c for c, i in flat.consumers(read) if i >= 0}
        assert view.box_ids([f"{read}:0"]) == view.box_ids([user]) != []
    assert view.box_ids(["no_such_node:0"]) == []


def test_tf2_outer_graph_shows_the_call_and_its_callee():
    model = sm_explorer.open_saved_model(fixture_model("seed_module"))
    dot = GraphView(graph.graph_of(model), show_all=True).to_dot()
    callees = {node.attr["f"].func.name for node in model.graph_def.node if node.op == "StatefulPartitionedCall"}
    assert "shape=\"component\"" in dot and callees and all(name in dot for name in callees)


def test_highlights_feeds_fetches_and_kept_set():
    model = sm_explorer.open_saved_model(fixture_model("tf1_two_metagraphs"), tags="serve")
    g = graph.graph_of(model)
    pruned = g.prune("x:0", "out:0")
    view = GraphView(g, show_all=True, highlight=Highlight({"x:0"}, {"out:0"}, set(pruned.nodes)))
    dot = view.to_dot()
    assert 'color="#38761d"' in dot and 'color="#cc0000"' in dot  # feed, fetch
    assert 'fontcolor="#aaaaaa"' in dot  # dimmed: not in the pruned set


def test_budget_collapses_scopes_and_expand_reopens_them():
    model = sm_explorer.open_saved_model(fixture_model("small_rnn"))
    g = graph.flatten(model, "serving_default")
    small = GraphView(g, budget=8)
    layout = small.layout()
    assert layout.collapsed and len(layout.units) <= 16
    scope = sorted(layout.collapsed)[0]
    assert scope not in small.expand(scope).layout().collapsed


def test_synthetic_50k_graph_stays_within_budget():
    g = graph.graph_from_graph_def(layered_graph_def(50_000))
    dot = GraphView(g).to_dot()  # how fast: benchmarks/bench_render.py
    assert len(_nodes(dot)) <= 300


def test_plan_respects_forced_choices():
    model = sm_explorer.open_saved_model(fixture_model("keras3_export"))
    root = graph.flatten(model, "serving_default").scopes()
    layout = plan(root, budget=1, expand=["StatefulPartitionedCall"])
    assert "StatefulPartitionedCall" in layout.expanded


PARSEABLE = [c for c in cases() if c.source == "corpus" and "parse_error" not in c.expected]


@pytest.mark.parametrize("case", PARSEABLE, ids=[c.id for c in PARSEABLE])
def test_every_corpus_model_renders_its_default_view(dot_binary, case):
    model = sm_explorer.open_saved_model(case.path, tags=case.expected["meta_graphs"][0]["tags"])
    svg = view_for(model).to_svg()
    assert "</svg>" in svg


def test_graph_command_writes_svg_and_dot(dot_binary, tmp_path, capsys):
    path = str(fixture_model("keras3_export"))
    assert main(["graph", path, "--signature-def", "serving_default", "-o", str(tmp_path / "g.svg")]) == 0
    assert (tmp_path / "g.svg").read_text().rstrip().endswith("</svg>")
    assert main(["graph", path, "--objects", "-o", str(tmp_path / "o.dot")]) == 0
    assert (tmp_path / "o.dot").read_text().startswith("digraph")
    assert main(["graph", path, "--function", "nope", "-o", str(tmp_path / "x.svg")]) == 1
    assert "nope" in capsys.readouterr().err


def test_corpus_path_exists():
    assert CORPUS.name == "savedmodels"


def _outer_graph_of_many_layers(layers: int):
    """Like a TF2 outer graph: one scope per layer holding its variable's handle and
    bookkeeping, every handle captured by the same calls."""
    from tests.graph.synth import FLOAT, RESOURCE, graph_def, node

    nodes = [node("x", "Placeholder", dtype=FLOAT)]
    for i in range(layers):
        nodes += [node(f"layer_{i}/kernel", "VarHandleOp", dtype=FLOAT),
                  node(f"layer_{i}/kernel/Assign", "AssignVariableOp", [f"layer_{i}/kernel", "x"], dtype=FLOAT),
                  node(f"layer_{i}/kernel/IsInitialized", "VarIsInitializedOp", [f"layer_{i}/kernel"]),
                  node(f"layer_{i}/kernel/Read", "ReadVariableOp", [f"layer_{i}/kernel"], dtype=FLOAT)]
    handles = [f"layer_{i}/kernel" for i in range(layers)]
    for call in ("serve", "save"):
        nodes.append(node(call, "StatefulPartitionedCall", ["x", *handles],
                          Tin=("types", [FLOAT] + [RESOURCE] * layers), Tout=("types", [FLOAT]), f=("func", call)))
    return graph.graph_from_graph_def(graph_def(nodes))


def test_variable_scopes_fold_into_one_box_and_open_as_a_grid():
    g = _outer_graph_of_many_layers(60)
    view = GraphView(g)
    dot = view.to_dot()
    assert "vars:*" in view.ids.values() and len(view.ids) <= 10  # not a row of 60 boxes
    folded = int(re.search(r"variable bookkeeping\\n(\d+) scopes", dot).group(1))
    assert folded > 16
    view.expand("vars:*")
    dot = view.to_dot()
    assert sum(u.startswith("scope:layer_") for u in view.ids.values()) == folded
    assert dot.count("style=invis") >= folded - int((folded * 4) ** 0.5)  # stacked in columns


def test_a_few_variable_scopes_stay_as_they_are():
    view = GraphView(_outer_graph_of_many_layers(3))
    view.to_dot()
    assert "vars:*" not in view.ids.values() and "style=invis" not in view.to_dot()


def test_hundreds_of_sibling_scopes_group_by_their_name_prefix():
    """Keras names layers conv2_block1_1_conv...: one flat scope of hundreds of layers."""
    from sm_explorer.render.collapse import plan
    from tests.graph.synth import FLOAT, graph_def, node

    names = [f"model/conv{s}_block{b}_{k}_{kind}/op{j}" for s in range(2, 6) for b in range(1, 21)
             for k in range(3) for kind in ("conv", "bn") for j in range(2)]
    g = graph.graph_from_graph_def(graph_def([node(n, "Relu", dtype=FLOAT) for n in names]))
    layout = plan(g.scopes(), budget=150)
    units = layout.units
    assert 20 < len(units) <= 150  # neither one box nor 480 layers
    assert "scope:model" not in units
    small = plan(g.scopes(), budget=40).units  # coarser: one box per stage
    assert {"scope:model/conv2_*", "scope:model/conv5_*"} <= small and len(small) <= 40
    # a real scope inside a virtual one can still be opened by its own path
    opened = plan(g.scopes(), budget=150, expand=["model/conv3_block7_2_bn"])
    assert "model/conv3_block7_2_bn/op0" in opened.unit_of.values()
