"""The explorer in a real JupyterLab 4 and Notebook 7, driven by Playwright in Debian's
Chromium: view, click, mark, build, run and export, then search, expand and drill
down. After the clicks, the notebook itself prints the Python state, which must be
what the clicks meant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sm_explorer
from sm_explorer import examples

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", params=["lab", "notebook"])
def front_end(request: pytest.FixtureRequest, browser: str, dot_binary: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.browser.jupyter import JupyterServer

    try:
        import jupyterlab  # noqa: F401
        import notebook  # noqa: F401
    except ImportError:
        from tests.conftest import need

        need("JupyterLab and Notebook 7 (the dev extra)")
    server = JupyterServer.start(request.param, tmp_path_factory.mktemp(f"jupyter-{request.param}"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def open_notebook(front_end: Any, chromium: tuple[Any, list[str]], artifacts: Path) -> Iterator[Callable[..., Any]]:
    from tests.browser.jupyter import NotebookPage

    context, _ = chromium
    pages: list[Any] = []

    def open_(model: Path, **kwargs: Any) -> Any:
        page = context.new_page()
        pages.append(page)
        return NotebookPage(page, front_end, model, shots=artifacts, **kwargs)

    yield open_
    for page in pages:
        page.close()


def test_mark_build_run_and_export(open_notebook: Any, front_end: Any, tmp_path: Path, artifacts: Path) -> None:
    from playwright.sync_api import expect

    nb = open_notebook(examples.path("tf1_two_metagraphs"), tags="serve")
    graph = nb.graph
    nb.node("x").click()
    expect(graph.locator(".smx-tensor select")).to_have_value("x:0")
    expect(graph.locator("g.node.smx-selected")).to_have_count(1)
    nb.press("mark as feed")
    expect(graph.locator("g.node.smx-feed")).to_have_count(1)
    nb.node("out").click()
    expect(graph.locator(".smx-tensor select")).to_have_value("out:0")
    nb.press("mark as fetch")
    expect(graph.locator("g.node.smx-fetch")).to_have_count(1)
    nb.press("build pruned function")
    expect(graph.locator(".smx-status")).to_contain_text("pruned function:")
    expect(graph.locator("g.node.smx-dim").first).to_be_attached()  # the rest of the graph is dimmed
    state = nb.state()
    assert state["feeds"] == ["x:0"] and state["fetches"] == ["out:0"] and "out" in state["pruned"]
    assert state["selection"] == "out"
    nb.press("run pruned")
    expect(graph.locator(".smx-status")).to_contain_text("ran on sample inputs")
    graph.get_by_placeholder("/path/to/new_saved_model").fill(str(tmp_path / "cut"))
    nb.press("export…")
    expect(graph.locator(".smx-status")).to_contain_text("exported to")
    assert sm_explorer.load(tmp_path / "cut").signatures["serving_default"]
    nb.page.screenshot(path=str(artifacts / f"jupyter-{front_end.kind}-pruned.png"))
    assert not nb.our_errors(), nb.our_errors()


def test_search_expand_and_drill_down(open_notebook: Any, front_end: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    nb = open_notebook(examples.path("keras3_export"))
    graph = nb.graph
    state = nb.state()
    assert state["view"] == "signature:serving_default"  # a TF2 model opens on its serving signature
    graph.get_by_placeholder("search names or ops").fill("Softmax")
    expect(graph.locator("g.node.smx-hit").first).to_be_attached()
    expect(graph.locator(".smx-status")).to_contain_text("match")
    # collapse the scope around a node into one box, then expand that box again
    boxes = graph.locator(".smx-graph svg g.node")
    before = boxes.count()
    nb.node("Softmax").click()
    nb.press("collapse scope")
    expect(boxes).not_to_have_count(before)
    expect(nb.node("Softmax")).to_have_count(0)
    collapsed = boxes.count()
    nb.node("probs_1").click()  # the collapsed scope's box
    frame = graph.locator(".smx-graph")

    def centre(box: Any) -> tuple[float, float]:  # in the frame: the notebook may scroll meanwhile
        origin = frame.bounding_box()
        return box["x"] + box["width"] / 2 - origin["x"], box["y"] + box["height"] / 2 - origin["y"]

    before = centre(nb.node("probs_1").bounding_box())
    nb.press("expand scope")
    expect(boxes).not_to_have_count(collapsed)
    expect(nb.node("Softmax")).to_have_count(1)
    anchor = nb.state()["anchor"]  # the box of the expanded scope's first node
    after = centre(graph.locator(f".smx-graph g.node#{anchor}").bounding_box())  # where the scope's box was
    assert abs(before[0] - after[0]) < 3 and abs(before[1] - after[1]) < 3, (before, after)
    # drill into a function from the outer graph, then back
    graph.locator("select").first.select_option(label="MetaGraph graph (TF2: outer graph)")
    expect(graph.locator(".smx-crumbs")).to_contain_text("graph")
    graph.locator(".smx-graph-button[title='zoom in']").click()  # a viewport of the user's own
    nb.node("StatefulPartitionedCall").click()
    stage = graph.locator(".smx-stage")
    viewport = stage.evaluate("e => e.style.transform")
    nb.press("open function")
    expect(graph.locator(".smx-crumbs")).to_contain_text("function")
    assert nb.state()["view"].startswith("function:")
    graph.get_by_role("button", name="◀ back").click()
    expect(graph.locator(".smx-crumbs")).not_to_contain_text("function")
    assert nb.state()["view"] == "graph:"
    assert stage.evaluate("e => e.style.transform") == viewport  # back where the user was
    nb.page.screenshot(path=str(artifacts / f"jupyter-{front_end.kind}-keras.png"))
    assert not nb.our_errors(), nb.our_errors()
