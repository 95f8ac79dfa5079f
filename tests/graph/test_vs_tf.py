"""Pruning and exported GraphDefs against TensorFlow itself (needs TF).

Node sets are checked against ``extract_sub_graph``, errors against
``WrappedFunction.prune``, and the exported GraphDefs are run by TF and
compared with TF running the SavedModel's own signature, loaded fresh for
each one (several signatures change variables)."""

from __future__ import annotations

import numpy as np
import pytest

from sm_explorer.core.loader import open_saved_model
from sm_explorer.errors import SavedModelError
from sm_explorer.graph import flatten, graph_of, signature_function
from tests.conftest import CORPUS, FIXTURES, need

CNN = "StatefulPartitionedCall/tiny_cnn_1"


def _run(tf, graph_def, feeds, fetches):
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(fetches, feeds)


@pytest.mark.parametrize("name,fetch", [
    ("tensorflow__half_plus_two", "y"),
    ("tensorflow__contrib_predictor_test_export_dir", "outputs/sum"),
    ("rust__regression-model", "y_hat"),
])
def test_node_sets_match_extract_sub_graph(tf, corpus, name, fetch):
    tags = ["train", "serve"] if name.startswith("rust") else None
    model = open_saved_model(corpus / name, tags)
    graph = graph_of(model)
    placeholders = {n.name for n in graph if n.op == "Placeholder"}
    ours = graph.prune([f"{p}:0" for p in sorted(placeholders)], f"{fetch}:0")
    theirs = tf.compat.v1.graph_util.extract_sub_graph(
        tf.compat.v1.GraphDef.FromString(model.graph_def.SerializeToString()), [fetch]
    )
    wanted = {n.name for n in theirs.node}
    assert set(ours.nodes) | (wanted & placeholders) == wanted


def test_unliftable_error_names_the_same_path(tf, corpus):
    model = open_saved_model(corpus / "tensorflow__half_plus_two")
    loaded = tf.saved_model.load(str(model.files.root))
    with pytest.raises(Exception) as theirs:
        loaded.prune([], "y:0")
    with pytest.raises(SavedModelError) as ours:
        graph_of(model).prune([], "y:0")
    path = str(theirs.value).split("e.g.: ")[1].strip()
    assert f"e.g.: {path}." in str(ours.value)


CASES = [
    (CORPUS / "tensorflow__half_plus_two", "regress_x2_to_y3"),
    (CORPUS / "serving__saved_model_half_plus_two_cpu_with_saved_model_config", "serving_default"),
    (CORPUS / "tensorflow__contrib_predictor_test_export_dir", "product"),
    (CORPUS / "tensorflow__lite_control_flow_v1_saved_model", "serving_default"),
    (CORPUS / "flowpm__jax2tf_saved_model", "serving_default"),
    (FIXTURES / "models" / "keras3_export", "serving_default"),
    (FIXTURES / "models" / "small_rnn", "serving_default"),
    (FIXTURES / "models" / "control_flow", "loop"),
    (FIXTURES / "models" / "stateful_counter", "incr_counter_by"),
    (FIXTURES / "models" / "tf1_partitioned", "serving_default"),
]


@pytest.mark.parametrize("path,key", CASES, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("mode", ["constants", "placeholders"])
def test_exported_signature_runs_like_tensorflow(tf, path, key, mode):
    if not path.is_dir():
        need(f"the model at {path}")
    model = open_saved_model(path)
    signature = tf.saved_model.load(str(model.files.root)).signatures[key]
    specs = signature.structured_input_signature[1]
    rng = np.random.default_rng(0)
    inputs = {}
    for k, spec in sorted(specs.items()):
        shape = [2] if spec.shape.rank is None else [2 if d is None else d for d in spec.shape]
        values = rng.standard_normal(shape) if spec.dtype.is_floating else rng.integers(1, 4, shape)
        inputs[k] = values.astype(spec.dtype.as_numpy_dtype)
    want = {k: v.numpy() for k, v in signature(**{k: tf.constant(v) for k, v in inputs.items()}).items()}
    pruned = signature_function(model, key)
    feeds = {spec.name: inputs[k] for k, spec in zip(sorted(specs), pruned.inputs)}
    if mode == "placeholders":
        values = pruned.variable_values()
        assert set(values) == set(pruned.variable_inputs)
        feeds.update(values)
    got = _run(tf, pruned.graph_def(mode), feeds, pruned.fetch_names)
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-5)


def test_keras3_intermediate_prune_runs_like_the_whole_graph(tf):
    model = open_saved_model(FIXTURES / "models" / "keras3_export")
    graph = flatten(model, "serving_default")
    mean, probs = f"{CNN}/gap_1/Mean:0", f"{CNN}/probs_1/Softmax:0"
    image = np.random.default_rng(1).standard_normal((3, 8, 8, 3)).astype(np.float32)
    whole = graph.prune(["image:0"], [mean, probs, "Identity:0"])
    mean_value, probs_value, output = _run(tf, whole.graph_def("constants"), {"image:0": image}, whole.fetch_names)
    part = graph.prune([mean], probs)
    again = _run(tf, part.graph_def("constants"), {mean: mean_value}, part.fetch_names)
    np.testing.assert_allclose(again, probs_value, rtol=1e-6)
    np.testing.assert_allclose(output, probs_value)
    signature = tf.saved_model.load(str(model.files.root)).signatures["serving_default"]
    np.testing.assert_allclose(signature(image=tf.constant(image))["output_0"].numpy(), output, rtol=1e-5)
