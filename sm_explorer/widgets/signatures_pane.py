"""Signatures pane: every signature's inputs and outputs, and a "try it" form."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import numpy as np

from sm_explorer.core.samples import sample_inputs
from sm_explorer.errors import SavedModelError
from sm_explorer.widgets.html import STYLE, esc, message, table

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["SignaturesPane"]


def _rows(model: SavedModel) -> list[list[Any]]:
    rows = []
    for key, sig in model.signature_defs.items():
        for side, specs in (("input", sig.inputs), ("output", sig.outputs)):
            for name, spec in specs.items():
                rows.append([key, side, name, spec.dtype, "?" if spec.shape is None else list(spec.shape),
                             spec.name or "", sig.method_name])
    return rows


def _show(value: np.ndarray) -> str:
    with np.printoptions(threshold=50, edgeitems=3, precision=5):
        return f"{value.dtype}{list(value.shape)}\n{value}"


class SignaturesPane(w.VBox):
    def __init__(self, model: SavedModel) -> None:
        self.model = model
        header = ["signature", "side", "name", "dtype", "shape", "tensor", "method"]
        self.table = w.HTML(STYLE + table(header, _rows(model)))
        keys = sorted(model.signatures)
        self.choice = w.Dropdown(options=keys, description="try", value=keys[0] if keys else None)
        self.inputs_text = w.Textarea(layout=w.Layout(width="90%", height="90px"),
                                      placeholder='{"x": [[1.0]]}  (empty: generated sample inputs)')
        self.run_button = w.Button(description="Run", button_style="primary", disabled=not keys)
        self.result = w.HTML()
        self.run_button.on_click(lambda _: self.run())
        super().__init__([self.table, w.HTML("<h4>Try it</h4>"), self.choice, self.inputs_text,
                          self.run_button, self.result])

    def inputs(self) -> dict[str, np.ndarray]:
        sig = self.model.signatures[self.choice.value]
        text = self.inputs_text.value.strip()
        if not text:
            return sample_inputs(sig.inputs)
        given = json.loads(text)
        out = {}
        for name, value in given.items():
            spec = sig.inputs.get(name)
            if spec is None:
                raise ValueError(f"no input {name!r}; inputs: {', '.join(sig.inputs)}")
            out[name] = np.asarray(value, dtype="S" if spec.dtype == "string" else spec.dtype)
        return out

    def run(self) -> dict[str, np.ndarray] | None:
        """Run the chosen signature; show outputs or a plain-words error."""
        try:
            feeds = self.inputs()
            outputs = self.model.signatures[self.choice.value](**feeds)
        except (SavedModelError, ValueError, TypeError) as exc:
            self.result.value = STYLE + message(str(exc), "error")
            return None
        rows = [f"<b>{esc(k)}</b><pre>{esc(_show(np.asarray(v)))}</pre>" for k, v in sorted(outputs.items())]
        ins = [f"<b>{esc(k)}</b><pre>{esc(_show(v))}</pre>" for k, v in feeds.items()]
        self.result.value = STYLE + "<h5>inputs</h5>" + "".join(ins) + "<h5>outputs</h5>" + "".join(rows)
        return outputs
