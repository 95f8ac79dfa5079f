"""Trackable objects: the Python objects ``load`` returns.

Each node of a TF2 SavedObjectGraph becomes one of these classes, chosen by
its kind. Children are reachable as attributes or items (``obj.dense`` or
``obj["layer_with_weights-0"]``). Objects are created first and wired
second, so cyclic graphs need no recursion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np

    from sm_explorer.core.functions import ConcreteFunction
    from sm_explorer.core.model import SavedModel

Model: TypeAlias = "SavedModel | None"

__all__ = [
    "Trackable", "UserObject", "Variable", "Function", "BareConcreteFunction",
    "Asset", "Constant", "Resource", "CapturedTensor", "natural_key",
]


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort "2" before "10", as lists of layers are meant to be read."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


class Trackable:
    """A node of the object graph. ``kind`` says which kind of SavedObject it was."""

    kind = "object"

    def __init__(self, model: Model, node_id: int | None, path: str) -> None:
        self._model = model
        self._node_id = node_id
        self._path = path
        self._children: dict[str, Trackable] = {}

    # ---- navigation ----

    @property
    def node_id(self) -> int | None:
        return self._node_id

    @property
    def object_path(self) -> str:
        """Child names from the root, joined by "." ("" for the root)."""
        return self._path

    @property
    def children(self) -> dict[str, Trackable]:
        return dict(self._children)

    def __getattr__(self, name: str) -> Trackable:
        children = self.__dict__.get("_children")
        if children is not None and name in children:
            return children[name]
        listed = ", ".join(sorted(children, key=natural_key)[:20]) if children else "none"
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}; children: {listed}")

    def __getitem__(self, name: str) -> Trackable:
        try:
            return self._children[name]
        except KeyError:
            raise KeyError(f"no child {name!r}; children: {sorted(self._children, key=natural_key)}") from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {c for c in self._children if c.isidentifier()})

    def walk(self) -> Iterator[tuple[str, Trackable]]:
        """Every object reachable from here once, depth-first, children by name."""
        seen: set[int] = set()
        stack: list[tuple[str, Trackable]] = [(self._path, self)]
        while stack:
            path, obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield path, obj
            names = sorted(obj._children, key=natural_key, reverse=True)
            stack.extend((_join(path, n), obj._children[n]) for n in names)

    # ---- variables, as tf.Module and Keras expose them ----

    def _listed(self, attribute: str) -> list[Variable] | None:
        child = self._children.get(attribute)
        if child is None or isinstance(child, Variable):
            return None
        items = [child._children[k] for k in sorted(child._children, key=natural_key)]
        return [v for v in items if isinstance(v, Variable)]

    @property
    def variables(self) -> tuple[Variable, ...]:
        """This object's variables without duplicates: the saved ``variables``
        list when there is one (Keras, tf.Module exports), else every variable
        reachable from here in attribute order, as tf.Module computes it."""
        listed = self._listed("variables")
        if listed is not None:
            return tuple(_unique(listed))
        return tuple(_unique(obj for _, obj in self.walk() if isinstance(obj, Variable)))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        listed = self._listed("trainable_variables")
        if listed is not None:
            return tuple(_unique(listed))
        return tuple(v for v in self.variables if v.trainable)

    def __repr__(self) -> str:
        where = self._path or "<root>"
        return f"<sm_explorer.{type(self).__name__} {where}>"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unique(items: Any) -> list[Any]:
    seen: set[int] = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


class UserObject(Trackable):
    """A Python object (tf.Module, Keras layer, list, dict...) saved by attribute."""

    kind = "user_object"

    def __init__(self, model: Model, node_id: int | None, path: str, identifier: str = "") -> None:
        super().__init__(model, node_id, path)
        self.identifier = identifier


class Variable(Trackable):
    """A variable. Its value is read from the checkpoint only when asked for."""

    kind = "variable"

    def __init__(
        self,
        model: SavedModel | None,
        node_id: int | None,
        path: str,
        *,
        name: str,
        dtype: str,
        shape: tuple[int | None, ...] | None,
        trainable: bool,
        checkpoint_key: str | None,
        device: str = "",
    ) -> None:
        super().__init__(model, node_id, path)
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.trainable = trainable
        self.checkpoint_key = checkpoint_key
        self.device = device

    def numpy(self) -> np.ndarray:
        """The saved value (read-only, memory-mapped where the format allows)."""
        assert self._model is not None
        return self._model.read_variable(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        value = self.numpy()
        return value.astype(dtype) if dtype is not None else value

    @property
    def size(self) -> int | None:
        if self.shape is None or any(d is None for d in self.shape):
            return None
        return math.prod(self.shape)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        shape = "<unknown>" if self.shape is None else tuple(self.shape)
        return f"<sm_explorer.Variable {self.name!r} shape={shape} dtype={self.dtype}>"


class _Callable(Trackable):
    """What TF can call: concrete functions and the saved argument spec (``sm_explorer.loaded`` calls them)."""

    concrete_functions: list[ConcreteFunction]
    # From the saved FunctionSpec: the Python argument names and their defaults.
    arg_names: list[str] | None = None
    defaults: dict[str, Any] = {}

    def set_spec(self, fullargspec: Any, is_method: bool) -> None:
        names = list(getattr(fullargspec, "args", None) or [])
        if is_method and names[:1] == ["self"]:
            names = names[1:]
        defaults = tuple(getattr(fullargspec, "defaults", None) or ())
        self.arg_names = names or None
        self.defaults = dict(zip(names[len(names) - len(defaults):], defaults)) if defaults else {}


class Function(_Callable):
    """A tf.function: one or more concrete functions traced for different inputs."""

    kind = "function"

    def __init__(
        self, model: Model, node_id: int | None, path: str, concrete_functions: list[ConcreteFunction]
    ) -> None:
        super().__init__(model, node_id, path)
        self.concrete_functions = concrete_functions

    def __repr__(self) -> str:
        return f"<sm_explorer.Function {self._path} ({len(self.concrete_functions)} concrete)>"


class BareConcreteFunction(_Callable):
    """A single traced function saved on its own (signatures are these)."""

    kind = "bare_concrete_function"

    def __init__(
        self,
        model: Model,
        node_id: int | None,
        path: str,
        function: ConcreteFunction | None,
        argument_keywords: list[str],
    ) -> None:
        super().__init__(model, node_id, path)
        self.function = function
        self.argument_keywords = argument_keywords

    @property
    def concrete_functions(self) -> list[ConcreteFunction]:
        return [self.function] if self.function else []


class Asset(Trackable):
    """A file shipped in assets/ (a vocabulary, say)."""

    kind = "asset"

    def __init__(self, model: Model, node_id: int | None, path: str, filename: str | None) -> None:
        super().__init__(model, node_id, path)
        self.filename = filename

    @property
    def asset_path(self) -> str | None:
        """Where the asset file is on disk (checked to stay inside the model)."""
        if self.filename is None or self._model is None:
            return None
        return str(self._model.asset_path(self.filename))


class Constant(Trackable):
    """A constant tensor captured by functions; its value is a Const node."""

    kind = "constant"

    def __init__(self, model: Model, node_id: int | None, path: str, operation: str) -> None:
        super().__init__(model, node_id, path)
        self.operation = operation

    def numpy(self) -> np.ndarray:
        assert self._model is not None
        return self._model.constant_value(self.operation)


class Resource(Trackable):
    """A non-variable resource (a hash table, say), rebuilt by its functions."""

    kind = "resource"

    def __init__(self, model: Model, node_id: int | None, path: str, device: str) -> None:
        super().__init__(model, node_id, path)
        self.device = device


class CapturedTensor(Trackable):
    """A tensor captured from another function's graph."""

    kind = "captured_tensor"

    def __init__(self, model: Model, node_id: int | None, path: str, name: str, concrete_function: str) -> None:
        super().__init__(model, node_id, path)
        self.name = name
        self.concrete_function = concrete_function
