"""Property tests on random DAGs: the pruned set is exactly the ancestors of the
fetches (through data and control edges) not cut off by feeds, an unfed
placeholder among them is an error, and the exported GraphDef is closed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sm_explorer.graph import PruneError, TensorRef, graph_from_graph_def
from tests.graph.synth import FLOAT, graph_def, node

KINDS = ("Const", "Placeholder", "AddN", "Unpack")
WEIGHTED = ("Const", "Const", "Placeholder", "AddN", "AddN", "AddN", "Unpack", "Unpack")


@st.composite
def dags(draw):
    """(nodes as (name, kind, outputs, data inputs, control inputs), feeds, fetches)."""
    count = draw(st.integers(1, 24))
    nodes = []
    for i in range(count):
        kind = draw(st.sampled_from(WEIGHTED)) if i else draw(st.sampled_from(KINDS[:2]))
        outputs = draw(st.integers(1, 3)) if kind == "Unpack" else 1
        data, controls = [], []
        if kind in ("AddN", "Unpack") and i:
            for _ in range(draw(st.integers(0, 3))):
                j = draw(st.integers(0, i - 1))
                data.append((j, draw(st.integers(0, nodes[j][2] - 1))))
        if i:
            controls = sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=2))))
        nodes.append((f"n{i}", kind, outputs, data, controls))
    tensors = [(i, k) for i, n in enumerate(nodes) for k in range(n[2])]
    feeds = draw(st.lists(st.sampled_from(tensors), unique=True, max_size=4))
    fetch_tensors = draw(st.lists(st.sampled_from(tensors), min_size=0, max_size=3))
    fetch_ops = draw(st.lists(st.integers(0, count - 1), max_size=2))
    if not fetch_tensors and not fetch_ops:
        fetch_ops = [count - 1]
    return nodes, feeds, fetch_tensors, fetch_ops


def _build(nodes):
    defs = []
    for name, kind, outputs, data, controls in nodes:
        inputs = [f"n{j}:{k}" for j, k in data] + [f"^n{j}" for j in controls]
        if kind in ("Placeholder", "Const"):
            defs.append(node(name, kind, inputs, dtype=FLOAT))
        elif kind == "AddN":
            defs.append(node(name, kind, inputs, T=FLOAT, N=("i", len(data))))
        else:
            defs.append(node(name, kind, inputs, T=FLOAT, num=("i", outputs)))
    return graph_from_graph_def(graph_def(defs))


def _expected(nodes, feeds, fetch_tensors, fetch_ops):
    """A fixed point, computed differently from the pruner's breadth-first walk."""
    fed = set(feeds)
    fully_fed = {i for i, n in enumerate(nodes) if all((i, k) in fed for k in range(n[2]))}
    needed = {j for j, k in fetch_tensors if (j, k) not in fed} | set(fetch_ops)
    while True:
        grown = set(needed)
        for i in needed:
            _, _, _, data, controls = nodes[i]
            grown |= {j for j, k in data if (j, k) not in fed}
            grown |= {j for j in controls if j not in fully_fed}
        if grown == needed:
            return needed
        needed = grown


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_pruned_set_is_the_uncut_ancestors(case):
    nodes, feeds, fetch_tensors, fetch_ops = case
    graph = _build(nodes)
    expected = _expected(nodes, feeds, fetch_tensors, fetch_ops)
    feed_names = [f"n{j}:{k}" for j, k in feeds]
    fetches = [f"n{j}:{k}" for j, k in fetch_tensors] + [f"n{i}" for i in fetch_ops]
    placeholders = sorted(i for i in expected if nodes[i][1] == "Placeholder")
    if placeholders:
        try:
            graph.prune(feed_names, fetches)
        except PruneError as error:
            assert "depends transitively on placeholder" in str(error)
            named = str(error).split("placeholder '")[1].split("'")[0]
            assert int(named[1:]) in placeholders
            path = str(error).split("e.g.: ")[1].split(". Feed")[0].split(" <- ")
            assert path[-1] == f"{named} (Placeholder)"
            for consumer, producer in zip(path, path[1:]):  # each step is a real, uncut edge
                c, p = int(consumer.split()[0][1:]), int(producer.split()[0][1:])
                edges = [(j, k) for j, k in nodes[c][3] if j == p and (j, k) not in set(feeds)]
                assert edges or p in nodes[c][4]
            return
        raise AssertionError("an unfed placeholder was needed but no error was raised")
    pruned = graph.prune(feed_names, fetches)
    assert set(pruned.nodes) == {f"n{i}" for i in expected}
    assert list(pruned.nodes) == [n for n in graph.nodes if n in pruned.node_set]  # graph order
    gd = pruned.graph_def()
    defined = {n.name: n for n in gd.node}
    assert len(defined) == len(gd.node)
    for n in gd.node:
        for text in n.input:
            name = text.lstrip("^").split(":")[0]
            assert name in defined, f"{n.name} uses {text}, which the GraphDef lacks"
    for ref in pruned.feeds:
        tensor = pruned.feed_names[ref]
        assert defined[tensor[:-2]].op == "Placeholder"
    assert isinstance(pruned.feeds[0], TensorRef) if pruned.feeds else True
