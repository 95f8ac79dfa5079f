"""Overview pane: the files, the MetaGraphs and the totals, in plain words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as w

from sm_explorer.core.file_roles import anatomy
from sm_explorer.render.text import human_bytes
from sm_explorer.widgets.html import STYLE, esc, message, table

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["overview_pane"]


def overview_pane(model: SavedModel) -> w.Widget:
    a = anatomy(model)
    files = model.files
    parts = [STYLE, f"<h3>{esc(files.root)}</h3>"]
    if files.version is not None:
        parts.append(message(f"Serving base folder {files.base_dir}: showing version {files.version} "
                             f"(newest of {', '.join(files.versions)})."))
    parts.append(
        table(
            ["tags", "TensorFlow", "kind", "signatures", "variables", "parameters", "functions", "graph nodes"],
            [[", ".join(a.tags), a.tensorflow_version or "?", a.kind.upper(), a.num_signatures, a.num_variables,
              f"{a.num_parameters:,}", a.num_functions, a.num_nodes]],
        )
    )
    if a.checkpoint_problem:
        parts.append(message(f"Values unavailable: {a.checkpoint_problem}", "error"))
    parts.append("<h4>Files</h4>")
    parts.append(table(["file", "size", "what it is"], [[f.path, human_bytes(f.size), f.explanation] for f in a.files]))
    if a.kind == "tf2":
        parts.append(message(
            "TF2 model: the computation lives in the function library; the outer graph mostly calls "
            "functions (StatefulPartitionedCall). The object graph ties Python attributes to variables "
            "and functions."))
    else:
        parts.append(message(
            "TF1 model: the whole computation is one graph; signatures name its input and output tensors, "
            "and variables are graph nodes restored from the checkpoint by name."))
    return w.HTML("".join(parts))
