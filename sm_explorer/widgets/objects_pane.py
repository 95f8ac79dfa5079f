"""Objects pane: the trackable attribute tree, with details of the selected object."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as w
import numpy as np

from sm_explorer.core.objects import Trackable, Variable, natural_key
from sm_explorer.errors import SavedModelError
from sm_explorer.widgets.html import STYLE, esc, message, table

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["ObjectsPane", "call_expression"]


def call_expression(path: str) -> str:
    """How to reach an object in code: ``loaded.a.b`` or ``loaded["layer-0"].b``."""
    out = "loaded"
    for part in path.split(".") if path else []:
        out += f".{part}" if part.isidentifier() else f"[{part!r}]"
    return out


def _preview(value: np.ndarray) -> str:
    with np.printoptions(threshold=20, edgeitems=3, precision=4):
        return str(value)


class ObjectsPane(w.HBox):
    """A list of objects (expand a node by selecting it) and a details panel."""

    def __init__(self, model: SavedModel) -> None:
        self.model = model
        self.expanded: set[str] = {""}
        self.tree = w.Select(options=[], rows=24, layout=w.Layout(width="40%"))
        self.details = w.HTML()
        super().__init__([self.tree, self.details])
        self._paths: dict[str, Trackable] = {}
        self._updating = False
        self.tree.observe(self._on_select, names="value")
        self.refresh()

    def _lines(self) -> list[tuple[str, str]]:
        root = self.model.root
        if root is None:
            return [("TF1 model: no object graph (see Signatures and Graph)", "")]
        out: list[tuple[str, str]] = []
        stack: list[tuple[int, str, str, Trackable]] = [(0, "root", "", root)]
        seen: set[int] = set()
        while stack and len(out) < 5000:
            depth, name, path, obj = stack.pop()
            has_children = bool(obj._children)
            mark = ("▾ " if path in self.expanded else "▸ ") if has_children else "  "
            out.append(("  " * depth + mark + f"{name} ({obj.kind.replace('_', ' ')})", path))
            self._paths[path] = obj
            if path in self.expanded and id(obj) not in seen:
                seen.add(id(obj))
                for child in sorted(obj._children, key=natural_key, reverse=True):
                    child_path = f"{path}.{child}" if path else child
                    stack.append((depth + 1, child, child_path, obj._children[child]))
        return out

    def refresh(self) -> None:
        self._updating = True  # setting options moves the selection; that is not a click
        try:
            self.tree.options = self._lines()
        finally:
            self._updating = False

    def select(self, path: str) -> None:
        """Select (and expand) the object at ``path`` — what a click does."""
        if path not in self._paths:
            raise KeyError(f"no object at {path!r}")
        if path in self.expanded:
            self.expanded.discard(path)
        else:
            self.expanded.add(path)
        self.refresh()
        self._updating = True
        try:
            self.tree.value = path
        finally:
            self._updating = False
        self.details.value = self.describe(path)

    def _on_select(self, change: dict) -> None:
        if not self._updating and change["new"] is not None:
            self.select(change["new"])

    def describe(self, path: str) -> str:
        obj = self._paths[path]
        parts = [STYLE, f"<h4>{esc(path or 'root')}</h4>",
                 f"<div>kind: <b>{esc(obj.kind.replace('_', ' '))}</b></div>",
                 f"<div>in code: <code>{esc(call_expression(path))}</code></div>"]
        if isinstance(obj, Variable):
            parts.append(table(["name", "dtype", "shape", "trainable", "checkpoint key"],
                               [[obj.name, obj.dtype, obj.shape, obj.trainable, obj.checkpoint_key]]))
            try:
                parts.append(f"<pre>{esc(_preview(obj.numpy()))}</pre>")
            except SavedModelError as exc:
                parts.append(message(f"value unavailable: {exc.message}", "error"))
        fns = getattr(obj, "concrete_functions", None)
        if fns:
            parts.append(table(["concrete function", "call with"],
                               [[fn.name, f"{call_expression(path)}{fn.signature_text()}"] for fn in fns]))
        variables = [v for v in obj.variables][:50] if not isinstance(obj, Variable) else []
        if variables:
            parts.append(f"<div>{len(obj.variables)} variable(s):</div>")
            parts.append(table(["name", "dtype", "shape"], [[v.name, v.dtype, v.shape] for v in variables]))
        if obj._children:
            parts.append(table(["child", "kind"], [[k, c.kind] for k, c in sorted(obj._children.items())]))
        return "".join(parts)
