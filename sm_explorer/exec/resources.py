"""Resources the interpreter keeps between ops and calls: variables and tables.

A handle is a small Python object that travels through the graph as the
value of a resource tensor (inside a 0-d object array, like any other
value). Variable values start as the checkpoint's (read lazily, read-only)
and are replaced, never mutated in place, when assigned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["VariableHandle", "TableHandle", "Store", "as_handle", "wrap", "writes"]

_writes = 0  # variable assignments so far, in any store: values derived from variables are stale when it moves


def writes() -> int:
    """A counter that moves on every variable assignment."""
    return _writes


@dataclass(eq=False)
class VariableHandle:
    """A variable: its value is loaded on first read.

    A TF1 reference variable (``ref=True``) is updated in place, because in
    TF1 a tensor read from it earlier aliases its buffer and sees the update.
    Resource variables have value semantics: an assignment makes a new array.
    """

    name: str
    load: Callable[[], np.ndarray] | None = None
    value: np.ndarray | None = None
    ref: bool = False

    def read(self) -> np.ndarray:
        if self.value is None:
            if self.load is None:
                from sm_explorer.errors import ValueUnavailableError

                raise ValueUnavailableError(f"variable {self.name!r} is read before it is assigned a value")
            loaded = self.load()
            self.value = np.array(loaded) if self.ref else np.asarray(loaded)
        return self.value

    def assign(self, value: np.ndarray) -> None:
        global _writes
        _writes += 1
        value = np.asarray(value)
        current = self.value
        if self.ref and current is not None and current.shape == value.shape and current.dtype == value.dtype:
            np.copyto(current, value)
        else:
            self.value = np.array(value) if self.ref else value

    def __repr__(self) -> str:
        return f"<variable {self.name}>"


@dataclass(eq=False)
class TableHandle:
    """A hash table (HashTableV2 / MutableHashTableV2)."""

    name: str
    key_dtype: np.dtype
    value_dtype: np.dtype
    data: dict[Any, Any] = field(default_factory=dict)
    initialized: bool = False

    def __repr__(self) -> str:
        return f"<table {self.name} ({len(self.data)} entries)>"


class Store:
    """Resources by a stable key (shared_name, object id...), created on demand."""

    def __init__(self) -> None:
        self._items: dict[Any, Any] = {}

    def get(self, key: Any, create: Callable[[], Any]) -> Any:
        if key not in self._items:
            self._items[key] = create()
        return self._items[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._items


def wrap(handle: Any) -> np.ndarray:
    """A handle as a scalar tensor value."""
    out = np.empty((), dtype=object)
    out[()] = handle
    return out


def as_handle(value: Any, kind: type, what: str) -> Any:
    """The handle inside a resource tensor value (checked to be of ``kind``)."""
    from sm_explorer.exec.errors import ExecutionError

    item = value
    if isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        item = value.reshape(-1)[0]
    if not isinstance(item, kind):
        raise ExecutionError(f"{what} expects a {kind.__name__.replace('Handle', '').lower()} handle, got {item!r}")
    return item
