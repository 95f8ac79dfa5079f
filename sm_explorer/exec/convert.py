"""Turning user values into tensors of a spec, and flat outputs into structures."""

from __future__ import annotations

from typing import Any

import numpy as np

from sm_explorer.core import dtypes
from sm_explorer.core.specs import TensorSpec

__all__ = ["to_tensor", "fits", "pack", "flatten_like", "Mismatch"]


class Mismatch(Exception):
    """A value does not fit a spec (used to try the next concrete function)."""


def to_tensor(value: Any, dtype: str, strict: bool = False) -> np.ndarray:
    """``value`` as an array of TF dtype ``dtype`` (strings become object arrays of bytes).

    ``strict``: a NumPy value must already have that dtype (how a call picks
    among traces for different dtypes)."""
    if dtype == "string":
        array = np.asarray(value, dtype=object)
        out = np.empty(array.shape, dtype=object)
        for index, item in np.ndenumerate(array):
            out[index] = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        return out
    dt = dtypes.numpy_dtype(dtypes.dtype_from_name(dtype))
    typed = isinstance(value, (np.ndarray, np.generic))
    array = np.asarray(value)
    if dt is None or dt.kind == "O":
        return array
    if strict and typed and array.dtype != dt:
        # A NumPy value keeps its dtype, as a tensor would: it only fits a trace of that dtype.
        raise Mismatch(f"expected {dtype}, got {array.dtype}")
    if array.dtype.kind in "OSU":
        raise Mismatch(f"expected {dtype}, got text")
    if array.dtype.kind == "f" and dt.kind in "iub":
        raise Mismatch(f"expected {dtype}, got floats")
    if array.dtype.kind == "c" and dt.kind != "c":
        raise Mismatch(f"expected {dtype}, got complex numbers")
    return array.astype(dt, copy=False)


def fits(array: np.ndarray, spec: TensorSpec) -> bool:
    if spec.shape is None:
        return True
    if array.ndim != len(spec.shape):
        return False
    return all(want is None or want == got for want, got in zip(spec.shape, array.shape))


def flatten_like(value: Any, structure: Any, path: str = "") -> list[Any]:
    """The leaves of ``value`` laid out like ``structure`` (dicts by sorted key)."""
    if isinstance(structure, dict):
        if not isinstance(value, dict) or set(value) != set(structure):
            raise Mismatch(f"{path or 'argument'} should be a dict with keys {sorted(structure)}")
        return [
            leaf for key in sorted(structure) for leaf in flatten_like(value[key], structure[key], f"{path}[{key!r}]")
        ]
    if isinstance(structure, (list, tuple)) and not isinstance(value, np.ndarray):
        if not isinstance(value, (list, tuple)) or len(value) != len(structure):
            raise Mismatch(f"{path or 'argument'} should be a sequence of {len(structure)}")
        pairs = enumerate(zip(value, structure))
        return [leaf for i, (v, s) in pairs for leaf in flatten_like(v, s, f"{path}[{i}]")]
    return [value]


def pack(structure: Any, flat: list[Any]) -> Any:
    """Rebuild ``structure`` with its TensorSpec leaves replaced by ``flat`` values in order."""
    items = iter(flat)

    def build(node: Any) -> Any:
        if isinstance(node, TensorSpec):
            return next(items)
        if isinstance(node, dict):
            built = {key: build(node[key]) for key in sorted(node)}
            return {key: built[key] for key in node}
        if isinstance(node, tuple) and hasattr(node, "_fields"):
            return type(node)(*(build(v) for v in node))
        if isinstance(node, (list, tuple)):
            return type(node)(build(v) for v in node)
        return node

    return build(structure)
