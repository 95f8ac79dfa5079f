"""Pruned functions run straight from the graph model: no GraphDef is exported and
parsed again, and the numbers are those of the exported graph run the old way."""

from __future__ import annotations

import re

import numpy as np
import pytest

import sm_explorer
from sm_explorer import graph
from sm_explorer.core.samples import sample_inputs
from sm_explorer.exec.body import graph_body
from sm_explorer.exec.errors import MissingInputError
from sm_explorer.exec.interpreter import Interpreter
from sm_explorer.graph import export as graph_export
from sm_explorer.graph.prune import leaves
from sm_explorer.loaded import PrunedFunction
from tests.helpers import fixture_model

# Reads of resource variables, TF1 ref variables (and their Switch/Merge/loops), a While
# whose body uses a variable (kept as a variable, initialized), captured assets and tables.
SIGNATURES = [("seed_module", "serving_default"), ("keras3_export", "serving_default"),
              ("multi_signature_module", "text"), ("multi_signature_module", "count"),
              ("control_flow", "loop"), ("small_rnn", "serving_default"), ("tf1_control_flow_v1", "serving_default"),
              ("assets_hash_table", "serving_default"), ("tf1_two_metagraphs", "serving_default"),
              ("tf1_partitioned", "serving_default"), ("dtypes_variables", "serving_default"),
              ("stateful_counter", "incr_counter")]


def _signature_pruned(name: str, key: str) -> tuple[PrunedFunction, list[np.ndarray]]:
    loaded = sm_explorer.load(fixture_model(name), tags="serve")
    if key not in loaded.signatures:
        pytest.skip(f"{name} has no signature {key!r}")
    signature = loaded.signatures[key]
    inputs = sample_inputs(signature.inputs)
    pruned = graph.signature_function(loaded, key)
    assert isinstance(pruned, PrunedFunction)
    return pruned, [inputs[k] for k in sorted(inputs)]


def _exported_run(pruned: PrunedFunction, args: list[np.ndarray]) -> list[np.ndarray]:
    """The old way: export a self-contained GraphDef, parse it, feed the variable placeholders."""
    body = graph_body(pruned.graph_def(variables="placeholders"))
    feeds = {body.parse_ref(s.name): value for s, value in zip(pruned.inputs, args)}
    feeds.update((body.parse_ref(n), v) for n, v in pruned.variable_values().items())
    fetches = [n for n in leaves(pruned.fetch_names) if ":" in n]
    return Interpreter(pruned.graph.library.model).run(body, feeds, [body.parse_ref(n) for n in fetches])


def _refuse_export(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("calling a pruned function exported a GraphDef")

    monkeypatch.setattr(graph_export, "to_graph_def", refuse)
    monkeypatch.setattr(graph.PrunedFunction, "graph_def", refuse)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == object:
        assert [bytes(x) for x in a.reshape(-1)] == [bytes(x) for x in b.reshape(-1)]
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,key", SIGNATURES)
def test_a_pruned_call_exports_nothing_and_matches_the_exported_graph(name, key, monkeypatch):
    pruned, args = _signature_pruned(name, key)
    try:
        want = _exported_run(pruned, args)
    except MissingInputError as exc:  # a captured table: neither way can make it self-contained
        _refuse_export(monkeypatch)
        with pytest.raises(MissingInputError, match=re.escape(str(exc))):
            pruned(*args)
        return
    _refuse_export(monkeypatch)
    got = pruned(*args)
    got = [v for v in leaves(got) if v is not None]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        _same(a, b)
    for a, b in zip([v for v in leaves(pruned(*args)) if v is not None], want):  # again: kept body, fresh state
        _same(a, b)


def test_a_pruned_call_agrees_with_the_signature(monkeypatch):
    loaded = sm_explorer.load(fixture_model("control_flow"))
    signature = loaded.signatures["loop"]
    inputs = sample_inputs(signature.inputs)
    pruned = graph.signature_function(loaded, "loop")
    _refuse_export(monkeypatch)
    got = pruned(*[inputs[k] for k in sorted(inputs)])
    want = signature(**inputs)
    assert set(got) == set(want)
    for out in want:
        np.testing.assert_allclose(got[out], want[out], rtol=1e-6)


def test_variables_are_fed_mapped_not_copied(monkeypatch):
    """The reads get the checkpoint's arrays as they are: views of the mapped file, not copies."""
    loaded = sm_explorer.load(fixture_model("keras3_export"))
    pruned = loaded.signatures["serving_default"].prune(
        ["StatefulPartitionedCall/tiny_cnn_1/gap_1/Mean:0"], "StatefulPartitionedCall/tiny_cnn_1/probs_1/Softmax:0"
    )
    x = np.ones((1, 6), np.float32)
    fed: list[np.ndarray] = []
    run = Interpreter.run

    def spy(self, body, feeds, fetches, targets=(), depth=0):
        fed.extend(v for v in feeds.values() if v is not x)
        return run(self, body, feeds, fetches, targets, depth)

    monkeypatch.setattr(Interpreter, "run", spy)
    _refuse_export(monkeypatch)
    pruned(x)
    assert len(fed) == len(pruned.variable_values()) > 0
    assert not any(v.flags.owndata for v in fed)
