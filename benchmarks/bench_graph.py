"""Graph model benchmark: flattening and pruning a Keras ResNet50 export.

    python benchmarks/bench_graph.py [--model resnet50]

Targets (in-process, cold caches): flatten the serving signature in 200 ms
or less, prune it in 20 ms or less. Also prints the cost of the outer graph
and every library function, and of exporting a pruned GraphDef (no target).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, model_path, report  # noqa: E402

FLATTEN_TARGET = 0.200
PRUNE_TARGET = 0.020


def _cut_point(graph, flat, outputs) -> str:  # type: ignore[no-untyped-def]
    """An activation half way through the network that cuts it in two (skip
    connections make most of them not cut): the nearest one to the middle."""
    from sm_explorer.errors import SavedModelError

    names = [n.name for n in flat if n.op in ("Relu", "Relu6", "AddV2", "Mul", "Conv2D")]
    middle = len(names) // 2
    for step in range(len(names)):
        for i in (middle - step, middle + step):
            if 0 <= i < len(names):
                try:
                    graph.prune(flat, [f"{names[i]}:0"], outputs)
                    return f"{names[i]}:0"
                except SavedModelError:
                    continue
    raise SystemExit("no single activation cuts this network in two")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--signature", default="serving_default")
    args = parser.parse_args()
    path = model_path(args.model)

    from sm_explorer import graph
    from sm_explorer.core.loader import open_saved_model
    from sm_explorer.graph.library import Library

    model = open_saved_model(path)
    signature = model.signature_defs[args.signature]

    def cold_flatten() -> graph.Graph:
        Library.forget(model)
        return graph.flatten(model, signature)

    def everything() -> int:
        Library.forget(model)
        total = len(graph.graph_of(model))
        for name in model.functions:
            total += len(graph.function_graph(model, name))
        return total

    flat = cold_flatten()
    inputs = [f"{name}:0" for name in flat.inputs if name not in flat.captures]
    outputs = [ref.name for ref in flat.outputs.values()]
    middle = _cut_point(graph, flat, outputs)

    flatten_low, flatten_median = best_of(cold_flatten)
    prune_low, prune_median = best_of(lambda: graph.prune(flat, inputs, outputs))
    mid_low, mid_median = best_of(lambda: graph.prune(flat, [middle], outputs))
    whole = graph.prune(flat, inputs, outputs)
    part = graph.prune(flat, [middle], outputs)
    export_low, _ = best_of(lambda: whole.graph_def("placeholders"), repeat=3)
    const_low, _ = best_of(lambda: whole.graph_def("constants"), repeat=3)
    all_low, _ = best_of(everything, repeat=3)
    nodes_all = everything()

    def ms(low: float, median: float) -> str:
        return f"min {low * 1e3:.1f} ms, median {median * 1e3:.1f} ms"

    print(f"model: {path}; signature {args.signature!r}: {len(flat)} nodes flattened, "
          f"{len(flat.captures)} captured inputs; cut at {middle}")
    rows = [
        (f"flatten (cold, target {FLATTEN_TARGET * 1e3:.0f} ms)", ms(flatten_low, flatten_median)),
        (f"prune inputs -> outputs ({len(whole.nodes)} nodes, target {PRUNE_TARGET * 1e3:.0f} ms)",
         ms(prune_low, prune_median)),
        (f"prune mid activation -> outputs ({len(part.nodes)} nodes)", ms(mid_low, mid_median)),
        ("graph_def(variables='placeholders')", f"min {export_low * 1e3:.1f} ms"),
        ("graph_def(variables='constants')", f"min {const_low * 1e3:.1f} ms (reads every weight)"),
        (f"outer graph + every function ({nodes_all} nodes)", f"min {all_low * 1e3:.1f} ms"),
    ]
    report(rows)
    missed = [name for name, value, target in (
        ("flatten", flatten_median, FLATTEN_TARGET), ("prune", prune_median, PRUNE_TARGET),
    ) if value > target]
    if missed:
        print(f"  MISSED TARGET: {', '.join(missed)}")
        return 1
    print("  targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
