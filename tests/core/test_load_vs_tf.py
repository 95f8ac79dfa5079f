"""sm_explorer.load against tf.saved_model.load on the same files (needs TF)."""

from __future__ import annotations

import pytest

import sm_explorer
from tests.conftest import CORPUS, FIXTURES, need

TF2_MODELS = sorted(
    p for p in (FIXTURES / "models").iterdir()
    if p.is_dir() and not p.name.startswith("tf1_")
) if (FIXTURES / "models").is_dir() else []
CORPUS_TF2 = [
    CORPUS / name for name in (
        "tensorflow__CyclicModule", "tensorflow__VarsAndArithmeticObjectGraph",
        "rust__keras_single_input_saved_model", "tfjs__module_with_multiple_signatures",
        "serving__saved_model_half_plus_two_tf2_cpu", "tensorflow__keras_lso_savedmodel_tf2.2",
    )
]


def _spec(spec) -> tuple:
    shape = None if spec.shape.rank is None else tuple(spec.shape.as_list())
    return spec.dtype.name, shape


@pytest.mark.parametrize("path", TF2_MODELS + CORPUS_TF2, ids=lambda p: p.name)
def test_objects_variables_and_signatures_match(tf, path):
    if not path.exists():
        need(f"the shared corpus model {path.name}")
    ours = sm_explorer.load(path)
    theirs = tf.saved_model.load(str(ours.saved_model.files.root))  # TF wants the version folder
    assert sorted(ours.signatures) == sorted(theirs.signatures)
    for key, fn in theirs.signatures.items():
        args, kwargs = fn.structured_input_signature
        assert not args
        mine = ours.signatures[key]
        assert {k: _spec(v) for k, v in kwargs.items()} == {
            k: (s.dtype, s.shape) for k, s in mine.inputs.items()
        }
    for attribute in ("variables", "trainable_variables"):
        if hasattr(theirs, attribute):
            want = [(v.name, tuple(v.shape.as_list()), v.dtype.name) for v in getattr(theirs, attribute)]
            got = [(v.name, v.shape, v.dtype) for v in getattr(ours, attribute)]
            assert got == want, attribute
    # Every attribute TF restored is a child of ours, with the same kind of thing.
    for name in dir(theirs):
        if name.startswith("_") or name in ("signatures", "tensorflow_version", "tensorflow_git_version",
                                            "graph_debug_info"):
            continue
        value = getattr(theirs, name)
        if isinstance(value, tf.Variable):
            mine = ours[name]
            assert isinstance(mine, sm_explorer.core.objects.Variable), name
            assert (mine.numpy() == value.numpy()).all(), name
