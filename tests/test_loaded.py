"""The assembly layer: core stays data, ``load`` adds behaviour, the context owns the state."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import sm_explorer
from sm_explorer import graph
from sm_explorer.core import functions, objects, root
from sm_explorer.core.loader import open_saved_model as open_core
from sm_explorer.loaded import ModelContext, PrunedFunction
from tests.helpers import fixture_model

KERAS_FEED = "StatefulPartitionedCall/tiny_cnn_1/gap_1/Mean:0"
KERAS_FETCH = "StatefulPartitionedCall/tiny_cnn_1/probs_1/Softmax:0"


def test_core_builds_plain_data():
    model = open_core(fixture_model("keras3_export"))
    signature = model.signatures["serving_default"]
    assert type(signature) is functions.Signature and not callable(signature)
    assert not hasattr(signature, "prune")
    assert type(model.root) is root.Loaded and not hasattr(model.root, "graph")
    pruned = graph.prune_signature(signature, [KERAS_FEED], KERAS_FETCH)
    assert type(pruned) is graph.PrunedFunction and not hasattr(pruned, "save")


def test_load_returns_subclasses_of_the_core_classes():
    loaded = sm_explorer.load(fixture_model("seed_module"))
    assert isinstance(loaded, root.Loaded) and isinstance(loaded, sm_explorer.Loaded)
    assert isinstance(loaded.signatures["serving_default"], functions.Signature)
    calls = [obj for _, obj in loaded.walk() if isinstance(obj, (objects.Function, objects.BareConcreteFunction))]
    assert calls and all(callable(obj) for obj in calls)
    assert repr(loaded.signatures["serving_default"]).startswith("<sm_explorer.Signature ")


def test_every_way_of_pruning_a_loaded_model_runs():
    loaded = sm_explorer.load(fixture_model("keras3_export"))
    model = loaded.saved_model
    x = np.random.default_rng(0).uniform(size=(2, 6)).astype(np.float32)
    ways = [
        loaded.signatures["serving_default"].prune([KERAS_FEED], KERAS_FETCH),
        graph.flatten(model, "serving_default").prune([KERAS_FEED], KERAS_FETCH),
        graph.prune_signature(model.signatures["serving_default"], [KERAS_FEED], KERAS_FETCH),
    ]
    want = ways[0](x)
    for pruned in ways:
        assert isinstance(pruned, PrunedFunction)
        np.testing.assert_array_equal(pruned(x), want)


def test_the_context_owns_the_session_and_library():
    context = ModelContext(fixture_model("seed_module"))
    assert context.session is context.session
    assert graph.library_of(context.model) is context.library
    assert context.session.interpreter.library is context.library


def test_a_dropped_model_goes_away_with_its_context():
    loaded = sm_explorer.load(fixture_model("seed_module"))
    signature = loaded.signatures["serving_default"]
    signature(x=np.ones((1, 1), np.float32))  # makes the session
    graph.flatten(loaded, "serving_default")
    model = weakref.ref(loaded.saved_model)
    del loaded, signature
    gc.collect()
    assert model() is None


@pytest.mark.parametrize("opener", [open_core, sm_explorer.open_saved_model])
def test_graph_caches_do_not_keep_a_model_alive(opener):
    model = opener(fixture_model("seed_module"))
    graph.flatten(model, "serving_default")
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None
