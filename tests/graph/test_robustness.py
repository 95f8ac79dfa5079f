"""Malformed graphs: random references, calls and attrs may make a graph
useless, but every failure must be a SavedModelError, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sm_explorer.errors import SavedModelError
from sm_explorer.graph import Library, graph_from_graph_def
from sm_explorer.graph.build import build_function
from tests.graph.synth import FLOAT, function, graph_def, node

NAMES = ["a", "b", "c", "f", "g", "a/b", "x"]
OPS = ["Identity", "AddN", "Split", "StatefulPartitionedCall", "If", "f", "g", "Mystery", "Placeholder", "Const"]
PIECES = st.sampled_from(NAMES + ["output", "y", "0", "1", "7", "²", "-1", "", "^", ":"])
REFERENCE = st.lists(PIECES, min_size=1, max_size=4).map("".join)


@st.composite
def nodes(draw, count):
    out = []
    for i in range(count):
        op = draw(st.sampled_from(OPS))
        attrs = {}
        if draw(st.booleans()):
            attrs["num_split"] = ("i", draw(st.sampled_from([-3, 0, 2, 10**12])))
        if op in ("StatefulPartitionedCall", "If"):
            attrs["f" if op != "If" else "then_branch"] = ("func", draw(st.sampled_from(["f", "g", "nope"])))
            attrs["Tout"] = ("types", [FLOAT])
        if draw(st.booleans()):
            attrs["T"] = FLOAT
        name = draw(st.sampled_from(NAMES)) if draw(st.booleans()) else f"n{i}"
        out.append(node(name, op, draw(st.lists(REFERENCE, max_size=3)), **attrs))
    return out


def _exercise(graph) -> None:
    for n in graph:
        graph.output_dtypes(n)
        assert n.category
    graph.call_sites()
    graph.scopes()
    graph.variable_links()
    names = list(graph.nodes)
    for fetch in names[:3]:
        for feeds in ([], [f"{names[0]}:0"]):
            try:
                pruned = graph.prune(feeds, [fetch, f"{fetch}:0"])
                assert len(pruned.inputs) == len(feeds)
                assert pruned.structured_outputs[0] is None
                pruned.graph_def()
            except SavedModelError:
                pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_graphs_and_libraries_never_crash(data):
    f_body = data.draw(nodes(data.draw(st.integers(0, 4))))
    g_body = data.draw(nodes(data.draw(st.integers(0, 4))))
    functions = [
        function("f", [("a", FLOAT)], [("out", FLOAT)], f_body, {"out": data.draw(REFERENCE)}),
        function("g", [("a", FLOAT), ("b", FLOAT)], [("out", FLOAT)], g_body, {"out": data.draw(REFERENCE)},
                 {"c": data.draw(REFERENCE)}),
    ]
    gd = graph_def(data.draw(nodes(data.draw(st.integers(1, 6)))), functions)
    try:
        _exercise(graph_from_graph_def(gd))
        library = Library(gd)
        for name in ("f", "g"):
            _exercise(build_function(library, name))
            _exercise(build_function(library, name, inline=True, max_nodes=5000))
    except SavedModelError:
        pass
