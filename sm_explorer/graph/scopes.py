"""The name-scope tree: ``resnet50_1/conv2_block1_1_conv/Conv2D`` is node
``Conv2D`` in scope ``conv2_block1_1_conv`` in scope ``resnet50_1``.

Views show big graphs folded by scope, so each scope knows how many nodes
it holds directly and in total.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Scope", "scope_tree"]


class Scope:
    """One name scope: its sub-scopes, the nodes directly in it, and the total count."""

    __slots__ = ("name", "path", "children", "nodes", "count")

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self.children: dict[str, Scope] = {}
        self.nodes: list[str] = []
        self.count = 0

    def find(self, path: str) -> Scope | None:
        """The scope at ``path`` ("a/b") below this one, or None."""
        scope: Scope | None = self
        for part in filter(None, path.split("/")):
            scope = scope.children.get(part) if scope is not None else None
        return scope

    def walk(self) -> Iterator[Scope]:
        """This scope and every scope below it, depth first, children by name."""
        stack = [self]
        while stack:
            scope = stack.pop()
            yield scope
            stack.extend(scope.children[k] for k in sorted(scope.children, reverse=True))

    def to_dict(self, depth: int = -1) -> dict[str, Any]:
        """Plain nested dicts (``depth`` levels, -1 for all), for JSON and tests."""
        out: dict[str, Any] = {"name": self.name, "count": self.count, "nodes": len(self.nodes)}
        if depth != 0:
            out["children"] = [self.children[k].to_dict(depth - 1) for k in sorted(self.children)]
        return out

    def __repr__(self) -> str:
        return f"<Scope {self.path or '/'} nodes={self.count} scopes={len(self.children)}>"


def scope_tree(names: Iterable[str]) -> Scope:
    """The scope tree of node names."""
    root = Scope("", "")
    for name in names:
        scope = root
        scope.count += 1
        parts = name.split("/")
        for part in parts[:-1]:
            child = scope.children.get(part)
            if child is None:
                child = scope.children[part] = Scope(part, f"{scope.path}/{part}" if scope.path else part)
            scope = child
            scope.count += 1
        scope.nodes.append(name)
    return root
