"""The trackable object graph as a picture: objects are nodes, named children
are edges, each kind has its own shape, and variables show dtype and shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sm_explorer.core.objects import Trackable, Variable, natural_key
from sm_explorer.render.dot import label_text, quote
from sm_explorer.render.view_base import View

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["ObjectGraphView", "KIND_STYLE"]

# kind -> (shape, fill colour)
KIND_STYLE: dict[str, tuple[str, str]] = {
    "user_object": ("box", "#e8eef7"),
    "variable": ("ellipse", "#fde9c8"),
    "function": ("component", "#d9f0d3"),
    "bare_concrete_function": ("component", "#c7e9c0"),
    "asset": ("note", "#f2e0f5"),
    "constant": ("box", "#eeeeee"),
    "resource": ("cylinder", "#fbd5d5"),
    "captured_tensor": ("parallelogram", "#eeeeee"),
}


def _shape_text(shape: object) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"  # type: ignore[union-attr]


class ObjectGraphView(View):
    """Every object reachable from the root (at most ``max_objects`` of them)."""

    def __init__(self, model: SavedModel, max_objects: int = 300) -> None:
        self.model = model
        self.max_objects = max_objects

    def to_dot(self) -> str:
        root = self.model.root
        lines = ["digraph objects {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10, style=filled];',
                 '  edge [fontname="Helvetica", fontsize=9, color="#777777"];']
        if root is None:
            lines.append('  empty [label="TF1 model: no object graph", shape=plaintext];')
            return "\n".join(lines + ["}"])
        ids: dict[int, str] = {}
        order: list[tuple[str, Trackable]] = []
        for path, obj in root.walk():
            if len(order) >= self.max_objects:
                break
            ids[id(obj)] = f"n{len(order)}"
            order.append((path, obj))
        for path, obj in order:
            shape, fill = KIND_STYLE.get(obj.kind, ("box", "#ffffff"))
            name = path.rsplit(".", 1)[-1] if path else "root"
            text = label_text(name)
            if isinstance(obj, Variable):
                text += f"\n{obj.dtype} {_shape_text(obj.shape)}"
            elif obj.kind != "user_object":
                text += f"\n({obj.kind.replace('_', ' ')})"
            lines.append(
                f"  {ids[id(obj)]} [label={quote(text)}, tooltip={quote(path or 'root')}, "
                f"shape={shape}, fillcolor={quote(fill)}];"
            )
        for _, obj in order:
            for child_name in sorted(obj._children, key=natural_key):
                child = obj._children[child_name]
                if id(child) in ids:
                    lines.append(f"  {ids[id(obj)]} -> {ids[id(child)]} [label={quote(label_text(child_name, 30))}];")
        hidden = sum(1 for _ in root.walk()) - len(order)
        if hidden > 0:
            lines.append(f'  more [label={quote(f"... {hidden} more objects")}, shape=plaintext];')
        return "\n".join(lines + ["}"])

    def __repr__(self) -> str:
        return f"<ObjectGraphView of {self.model.files.root}>"
