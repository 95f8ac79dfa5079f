"""The explorer as a web app (``sm-explorer serve``), driven in a real Chromium.

What a user does: open the Graph tab, click the ``x`` placeholder and mark it
as feed, click ``out`` and mark it as fetch, build and run the pruned function,
look at the Variables; and on the demo model, open every pane. What the page
shows is compared with the same steps done in Python.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

import sm_explorer
from sm_explorer import examples
from sm_explorer.render.variable_frame import variables_frame
from sm_explorer.widgets.explorer import PANES

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _plain(fragment: str) -> str:
    """The words an HTML fragment shows (its <style> dropped)."""
    fragment = re.sub(r"<style>.*?</style>", "", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.fixture(scope="module")
def expected(dot_binary: str) -> Any:
    """The same clicks done in Python: what the page must end up showing."""
    explorer = sm_explorer.explore(examples.path("tf1_two_metagraphs"), tags="serve")
    pane = explorer.show_pane("Graph")
    pane.wait()
    pane.select("x")
    pane.mark_feed()
    pane.select("out")
    pane.mark_fetch()
    pane.build()
    return explorer, pane


@pytest.fixture(scope="module")
def tf1(open_app: Any, dot_binary: str) -> Any:
    return open_app(examples.path("tf1_two_metagraphs"), "serve")


@pytest.fixture(scope="module")
def keras(open_app: Any, dot_binary: str) -> Any:
    return open_app(examples.path("keras3_export"))


def test_pick_feed_and_fetch_in_the_svg_then_build_and_run(tf1: Any, expected: Any) -> None:
    from playwright.sync_api import expect

    explorer, pane = expected
    ids = {name: dot_id for dot_id, name in pane.view.ids.items()}
    graph = tf1.tab("Graph")
    expect(graph.locator(".smx-graph svg g.node").first).to_be_visible()
    state = graph.locator(".smx-state")

    tf1.graph_node("x").click()
    # the click travelled to Python (the `selected` trait) and back (the pane's widgets)
    expect(graph.locator(".smx-tensor select")).to_have_value("x:0")
    expect(graph.locator(".smx-details h4")).to_have_text("x")
    expect(graph.locator("g.node.smx-selected")).to_have_attribute("id", ids["x"])
    tf1.press("mark as feed")
    expect(state).to_contain_text("x:0")

    tf1.graph_node("out").click()
    expect(graph.locator(".smx-tensor select")).to_have_value("out:0")
    expect(graph.locator("g.node.smx-selected")).to_have_attribute("id", ids["out"])
    tf1.press("mark as fetch")
    expect(state).to_contain_text("out:0")

    tf1.press("build pruned function")
    status = graph.locator(".smx-status")
    expect(status).to_contain_text("pruned function:")
    expect(state).to_contain_text("nodes")
    # the page shows exactly the state the same steps give in Python
    assert tf1.text(".smx-pane-graph .smx-state") == _plain(pane.state.value)
    assert tf1.text(".smx-pane-graph .smx-status") == _plain(pane.status.value)
    assert f"{len(explorer.pruned.node_set)} nodes" in tf1.text(".smx-pane-graph .smx-state")
    assert explorer.feeds == ["x:0"] and explorer.fetches == ["out:0"]
    tf1.shot("graph-pruned", gallery_height=1000)

    tf1.press("run pruned")
    expect(status).to_contain_text("ran on sample inputs")


def test_variables_pane_lists_every_variable_with_totals(tf1: Any) -> None:
    from playwright.sync_api import expect

    model = sm_explorer.explore(examples.path("tf1_two_metagraphs"), tags="serve").model
    frame = variables_frame(model, stats=False)
    pane = tf1.tab("Variables")
    totals = pane.locator(".smx-totals")
    expect(totals).to_contain_text(f"{len(frame)} variables")
    expect(totals).to_contain_text(f"{int(frame['params'].sum()):,} parameters")
    names = pane.locator("table.smx-table tbody tr td:first-child").all_inner_texts()
    assert sorted(n.strip() for n in names) == sorted(frame["name"])
    expect(pane.locator("svg rect").first).to_be_attached()  # the histogram
    tf1.shot("tf1-variables", gallery=False)


def test_every_pane_of_the_demo_model_opens_and_answers(keras: Any) -> None:
    """One interaction per pane, each a round trip through the kernel."""
    from playwright.sync_api import expect

    for name in PANES:
        pane = keras.tab(name)
        if name == "Overview":
            expect(pane.locator("table.smx-table").first).to_contain_text("serve")
        elif name == "Objects":
            pane.locator("option", has_text="serve (function)").click()
            expect(pane.locator("h4")).to_have_text("serve")
            expect(pane).to_contain_text("loaded.serve")
        elif name == "Signatures":
            pane.get_by_role("button", name="Run", exact=True).click()
            expect(pane.locator("h5", has_text="outputs")).to_be_visible()
        elif name == "Graph":
            pane.locator("select").first.select_option(label="signature serving_default (flattened)")
            expect(pane.locator(".smx-crumbs")).to_contain_text("signature serving_default")
            expect(keras.graph_node("Relu")).to_be_visible()
        elif name == "Variables":
            expect(pane.locator(".smx-totals")).to_contain_text("variables")
            expect(pane.locator("svg rect").first).to_be_attached()
        else:
            expect(pane.locator("h4", has_text="Ops per function")).to_be_visible()
        assert "This pane failed" not in pane.inner_text(), name
        keras.shot(name.lower())


def test_the_page_stayed_on_localhost_without_errors(chromium: Any, tf1: Any, keras: Any) -> None:
    _, blocked = chromium
    assert blocked == [], f"the page tried to reach outside 127.0.0.1: {blocked}"
    assert tf1.errors == [] and keras.errors == []
