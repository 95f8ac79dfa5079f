"""The explorer widget driven from Python, no browser: panes, selection, tables."""

from __future__ import annotations

import pytest

import sm_explorer
from sm_explorer.widgets.explorer import PANES
from sm_explorer.widgets.objects_pane import call_expression
from tests.conftest import CORPUS
from tests.helpers import fixture_model

MODELS = [fixture_model(n) for n in ("seed_module", "keras3_export", "tf1_two_metagraphs", "dtypes_variables")] + [
    CORPUS / n for n in ("PARTIAL__succulent-saga__exported_model_saved_model", "serving__matrix_half_plus_two",
                         "LEGACY__tensorflow__half_plus_two_2016_v1checkpoint", "tensorflow__CyclicModule")
]


def _html(widget) -> str:
    out = getattr(widget, "value", "") if isinstance(getattr(widget, "value", ""), str) else ""
    for child in getattr(widget, "children", ()):
        out += _html(child)
    return out


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_every_pane_opens_without_failing(path):
    if not path.exists():
        pytest.fail(f"{path} missing")
    explorer = sm_explorer.explore(path, tags="serve")
    for name in PANES:
        pane = explorer.show_pane(name)
        assert "This pane failed" not in _html(pane), name
    frame = explorer.variables_frame
    assert len(frame) >= len(explorer.model.variables)


def test_objects_pane_selects_and_describes():
    explorer = sm_explorer.explore(fixture_model("multi_signature_module"))
    pane = explorer.show_pane("Objects")
    pane.select("encoder")
    pane.select("encoder.dense")
    pane.select("encoder.dense.w")
    assert "checkpoint key" in pane.details.value and "encoder/dense/w" in pane.details.value
    pane.select("poly")
    assert "loaded.poly(" in pane.details.value


def test_call_expression_for_odd_names():
    assert call_expression("layer_with_weights-0.kernel") == "loaded['layer_with_weights-0'].kernel"
    assert call_expression("") == "loaded"


def test_variables_pane_filters_sorts_and_draws():
    explorer = sm_explorer.explore(fixture_model("keras3_export"))
    pane = explorer.show_pane("Variables")
    pane.wait()
    pane.filter.value = "kernel"
    assert set(pane.visible()["name"]) and all("kernel" in n for n in pane.visible()["name"])
    pane.sort.value = "params"
    params = list(pane.visible()["params"])
    assert params == sorted(params, reverse=True)
    assert "<svg" in pane.chart.value  # the first variable's histogram
    pane.pick.value = pane.frame["name"][1]
    assert "<svg" in pane.chart.value and pane.frame["name"][1] in pane.chart.value
    assert "parameters" in pane.table.value


def test_missing_weights_show_in_the_pane(corpus):
    explorer = sm_explorer.explore(corpus / "PARTIAL__succulent-saga__exported_model_saved_model")
    pane = explorer.show_pane("Variables")
    pane.wait()
    assert pane.frame["problem"].notna().all()
    overview = explorer.show_pane("Overview").value
    assert "saved_model.pb" in overview and "variables.index" in overview


def test_signature_errors_are_shown_in_plain_words():
    explorer = sm_explorer.explore(fixture_model("seed_module"))
    pane = explorer.show_pane("Signatures")
    pane.inputs_text.value = '{"nope": 1}'
    assert pane.run() is None and "no input" in pane.result.value


def test_explore_accepts_a_loaded_model_and_rejects_unknown_panes():
    loaded = sm_explorer.load(fixture_model("seed_module"))
    explorer = sm_explorer.explore(loaded)
    assert explorer.model is loaded.saved_model
    with pytest.raises(ValueError, match="Overview"):
        explorer.show_pane("Nope")
