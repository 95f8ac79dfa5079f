"""The NumPy and TensorFlow backends give the same numbers; the run command."""

from __future__ import annotations

import numpy as np
import pytest

import sm_explorer
from sm_explorer.cli import main
from sm_explorer.core.samples import sample_inputs
from sm_explorer.exec.tf_backend import run_graph_def_tf, run_signature_tf
from tests.helpers import fixture_model

SIGNATURES = [("seed_module", "serving_default"), ("keras3_export", "serving_default"),
              ("multi_signature_module", "text"), ("multi_signature_module", "count"),
              ("control_flow", "loop"), ("small_rnn", "serving_default"), ("tf1_control_flow_v1", "serving_default"),
              ("assets_hash_table", "serving_default")]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype.kind in "OS":
        assert [bytes(x) for x in a.reshape(-1)] == [bytes(x) for x in b.reshape(-1)]
    else:
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,key", SIGNATURES)
def test_numpy_and_tensorflow_agree(tf, name, key):
    loaded = sm_explorer.load(fixture_model(name), tags="serve")
    signature = loaded.signatures[key]
    inputs = sample_inputs(signature.inputs)
    ours = signature(**inputs)
    theirs = run_signature_tf(loaded.saved_model, key, inputs)
    assert set(ours) == set(theirs)
    for out in ours:
        _same(ours[out], theirs[out])


def test_pruned_graphs_agree(tf):
    loaded = sm_explorer.load(fixture_model("keras3_export"))
    pruned = loaded.signatures["serving_default"].prune(
        ["StatefulPartitionedCall/tiny_cnn_1/gap_1/Mean:0"], "StatefulPartitionedCall/tiny_cnn_1/probs_1/Softmax:0"
    )
    x = np.random.default_rng(3).uniform(size=(2, 6)).astype(np.float32)
    (feed,) = [s.name for s in pruned.inputs]
    (theirs,) = run_graph_def_tf(pruned.graph_def(variables="constants"), {feed: x}, [pruned.outputs[0].name])
    _same(pruned(x), theirs)


def test_run_command_reads_and_writes_npz(tmp_path, capsys):
    model = fixture_model("multi_signature_module")
    inputs = sample_inputs(sm_explorer.load(model).signatures["text"].inputs)
    np.savez(tmp_path / "in.npz", **inputs)
    code = main(["run", str(model), "--signature-def", "text", "--inputs", str(tmp_path / "in.npz"),
                 "--outputs", str(tmp_path / "out.npz"), "--tag-set", "serve"])
    assert code == 0, capsys.readouterr().err
    with np.load(tmp_path / "out.npz", allow_pickle=False) as out:
        assert out["upper"].dtype.kind == "S" and set(out.files) == {"joined", "length", "upper"}


def test_run_command_tag_sets_any_order_and_errors(tmp_path, capsys, corpus):
    path = str(corpus / "rust__regression-model")
    assert main(["run", path, "--tag-set", "serve,train", "--signature-def", "nope"]) == 1
    assert "available" in capsys.readouterr().err
    code = main(["run", str(fixture_model("seed_module")), "--outputs", str(fixture_model("seed_module") / "x.npz")])
    assert code == 1 and "inside the model folder" in capsys.readouterr().err
