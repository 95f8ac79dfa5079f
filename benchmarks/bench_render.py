"""Issue 5 benchmark: building and laying out graph views (DOT + dot -Tsvg).

1. The default (auto-collapsed) view of every function of a Keras ResNet50
   export, and of its outer graph and flattened signature: target 1 s each.
2. A synthetic 50,000-node scoped graph: target 2 s.
3. Expanding one scope and laying out again: target 1 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import model_path, report  # noqa: E402

import sm_explorer  # noqa: E402
from sm_explorer import graph  # noqa: E402
from sm_explorer.render.graph_view import GraphView  # noqa: E402
from tests.graph.synth import layered_graph_def  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    model = sm_explorer.open_saved_model(model_path("resnet50"))
    rows, worst = [], (0.0, "")
    for name in sorted(model.functions):
        seconds, _ = timed(lambda name=name: GraphView(graph.function_graph(model, name)).to_svg())
        worst = max(worst, (seconds, name))
    rows.append((f"every function of resnet50 ({len(model.functions)})", f"worst {worst[0] * 1e3:.0f} ms ({worst[1]})"))
    seconds, _ = timed(lambda: GraphView(graph.graph_of(model)).to_svg())
    rows.append(("resnet50 outer graph", f"{seconds * 1e3:.0f} ms"))
    seconds, view = timed(lambda: GraphView(graph.flatten(model, "serving_default")))
    seconds2, _ = timed(view.to_svg)
    rows.append(("resnet50 flattened signature", f"{(seconds + seconds2) * 1e3:.0f} ms"))
    scope = sorted(view.layout().collapsed)[len(view.layout().collapsed) // 2]
    seconds, _ = timed(lambda: view.expand(scope).to_svg())
    rows.append(("expand one scope and re-layout", f"{seconds * 1e3:.0f} ms ({scope.rsplit('/', 1)[-1]})"))
    big = graph.graph_from_graph_def(layered_graph_def(50_000))
    seconds, _ = timed(lambda: GraphView(big).to_svg())
    rows.append(("synthetic 50,000 nodes", f"{seconds * 1e3:.0f} ms"))
    report(rows)


if __name__ == "__main__":
    main()
