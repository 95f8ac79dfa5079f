"""Pruned functions: run on NumPy, exported as SavedModels that TensorFlow loads
and runs with the same numbers, through the API and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sm_explorer
from sm_explorer.cli import main
from tests.helpers import fixture_model, tree_digest

KERAS_FEED = "StatefulPartitionedCall/tiny_cnn_1/gap_1/Mean:0"
KERAS_FETCH = "StatefulPartitionedCall/tiny_cnn_1/probs_1/Softmax:0"


def test_tf1_prune_runs_like_the_signature():
    imported = sm_explorer.load(fixture_model("tf1_two_metagraphs"), tags="serve")
    pruned = imported.prune("x:0", "out:0")
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(pruned(x), imported.signatures["serving_default"](x=x)["out"], rtol=1e-6)
    assert pruned(x=x).shape == (4, 1)  # by feed name too


def test_keras_inner_prune_runs_and_exports(tmp_path):
    source = fixture_model("keras3_export")
    before = tree_digest(source)
    loaded = sm_explorer.load(source)
    pruned = loaded.signatures["serving_default"].prune([KERAS_FEED], KERAS_FETCH)
    x = np.random.default_rng(1).uniform(size=(2, 6)).astype(np.float32)
    want = pruned(x)
    path = pruned.save(tmp_path / "head")
    again = sm_explorer.load(path)
    (key,) = again.signatures["serving_default"].inputs
    (got,) = again.signatures["serving_default"](**{key: x}).values()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert tree_digest(source) == before
    with pytest.raises(sm_explorer.SavedModelError, match="already exists"):
        pruned.save(tmp_path / "head")
    pruned.save(tmp_path / "head", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head"]  # no temporary folders left


def test_exports_load_and_run_in_tensorflow(tf, tmp_path):
    loaded = sm_explorer.load(fixture_model("keras3_export"))
    pruned = loaded.signatures["serving_default"].prune([KERAS_FEED], KERAS_FETCH)
    x = np.random.default_rng(2).uniform(size=(3, 6)).astype(np.float32)
    path = pruned.save(tmp_path / "head")
    theirs = tf.saved_model.load(str(path)).signatures["serving_default"]
    (key,) = theirs.structured_input_signature[1]
    (got,) = theirs(**{key: tf.constant(x)}).values()
    np.testing.assert_allclose(got.numpy(), pruned(x), rtol=1e-5, atol=1e-6)
    cli = Path(sys.executable).parent / "saved_model_cli"
    shown = subprocess.run([str(cli), "show", "--all", "--dir", str(path)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr[-1000:]


def test_prune_command(tmp_path, capsys):
    out = tmp_path / "cut"
    code = main(["prune", str(fixture_model("tf1_two_metagraphs")), "--tag-set", "serve",
                 "--feeds", "x:0", "--fetches", "out:0", "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    assert sm_explorer.load(out).signatures["serving_default"](x=np.ones([1, 3], np.float32))
    code = main(["prune", str(fixture_model("keras3_export")), "--signature-def", "serving_default",
                 "--feeds", KERAS_FEED, "--fetches", "nope:0", "--output", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 1 and "nope" in err and "Traceback" not in err


def test_signature_tensor_names_work_as_feeds_and_fetches():
    loaded = sm_explorer.load(fixture_model("keras3_export"))
    signature = loaded.signatures["serving_default"]
    feed, fetch = signature.inputs["image"].name, signature.outputs["output_0"].name  # as `show` prints them
    pruned = signature.prune(feed, fetch)
    x = np.random.default_rng(4).uniform(size=(2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(pruned(x), signature(image=x)["output_0"], rtol=1e-6)
