"""The Graph pane driven from Python: select, mark feeds and fetches, build,
run and export a pruned function, drill into functions, search, show errors."""

from __future__ import annotations

import numpy as np

import sm_explorer
from tests.helpers import fixture_model, tree_digest


def _pane(path, **kwargs):
    explorer = sm_explorer.explore(path, **kwargs)
    return explorer, explorer.show_pane("Graph")


def test_pick_feeds_and_fetches_then_build_run_and_export(dot_binary, tmp_path):
    source = fixture_model("tf1_two_metagraphs")
    before = tree_digest(source)
    explorer, pane = _pane(source, tags="serve")
    assert "<svg" in pane.svg.svg
    dot_id = next(k for k, v in pane.view.ids.items() if v == "x")
    pane.svg.selected = dot_id  # what a click in the browser does
    assert pane.selection == "x" and pane.tensor.value == "x:0"
    pane.buttons["feed"].click()
    pane.select("out")
    pane.buttons["fetch"].click()
    assert explorer.feeds == ["x:0"] and explorer.fetches == ["out:0"]
    pane.buttons["build"].click()
    pruned = explorer.pruned
    assert pruned is not None and "out" in pruned.nodes and [s.name for s in pruned.inputs] == ["x:0"]
    assert "x:0" in pane.state.value and "nodes" in pane.state.value
    (value,) = pane.run()  # fetches were a list, so the result is a list
    assert np.asarray(value).shape == (2, 1)
    pane.export_path.value = str(tmp_path / "cut")
    pane.buttons["export"].click()
    assert sm_explorer.load(tmp_path / "cut").signatures["serving_default"]
    pane.buttons["export"].click()  # again: refused without overwrite, shown in the pane
    assert "already exists" in pane.status.value
    assert tree_digest(source) == before


def test_unfed_placeholder_is_explained_in_the_pane(dot_binary):
    explorer, pane = _pane(fixture_model("tf1_two_metagraphs"), tags="serve")
    pane.mark_fetch("out:0")
    pane.buttons["build"].click()
    assert explorer.pruned is None
    assert "x" in pane.status.value and "smx-error" in pane.status.value


def test_drill_down_and_back(dot_binary):
    explorer, pane = _pane(fixture_model("seed_module"))
    site = next(s for s in pane.graph.call_sites() if s.functions)
    pane.select(site.node)
    pane.buttons["drill"].click()
    assert pane.graph.kind == "function"
    assert "▸" in pane.crumbs.value
    pane.back()
    assert pane.graph.kind == "graph"


def test_signature_view_search_and_scopes(dot_binary):
    explorer, pane = _pane(fixture_model("keras3_export"))
    pane.target.value = ("signature", "serving_default")
    assert pane.graph.kind == "flattened"
    hits = pane.find("Softmax")
    assert hits and "match" in pane.status.value
    scopes = sorted(pane.view.layout().expanded)
    if scopes:
        pane.select(f"scope:{scopes[-1]}")
        pane.buttons["collapse"].click()
        assert scopes[-1] in pane.view.collapsed


def test_unfed_path_is_highlighted(dot_binary):
    explorer, pane = _pane(fixture_model("tf1_two_metagraphs"), tags="serve")
    pane.mark_fetch("out:0")
    pane.buttons["build"].click()
    assert {"x", "out"} <= pane.view.highlight.hits  # the path from the fetch to the unfed input
