"""Helpers shared by the kernel families.

``op`` wraps the registry's ``kernel`` decorator so every kernel runs with
NumPy's floating-point warnings silenced (TensorFlow returns inf/NaN quietly),
turns NumPy's complaints about the model's data into ``KernelError`` (see
``registry.DATA_ERRORS``) and makes sure 0-d results are arrays, not NumPy scalars.
Any other exception from a kernel is a bug of ours and is left alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from sm_explorer.errors import SavedModelError
from sm_explorer.exec.registry import Kernel, KernelError, OpContext, is_data_error, kernel

__all__ = [
    "KernelError",
    "OpContext",
    "op",
    "ints",
    "scalar_int",
    "norm_axis",
    "attr_bytes",
    "to_bytes",
    "string_array",
    "as_strings",
    "is_string",
    "broadcast_shape",
    "shape_array",
    "variant",
    "dtype_of",
]


def op(*names: str) -> Callable[[Kernel], Kernel]:
    """Register a kernel under ``names``, guarded against NumPy warnings and errors."""

    def register(fn: Kernel) -> Kernel:
        @functools.wraps(fn)
        def guarded(ctx: OpContext, *inputs: Any) -> Any:
            try:
                with np.errstate(all="ignore"):
                    result = fn(ctx, *inputs)
            except SavedModelError:
                raise
            except Exception as err:  # only NumPy's complaints about the data are the model's problem
                if not is_data_error(err):
                    raise
                raise KernelError(f"{ctx.op}: {err}") from err
            if isinstance(result, tuple):
                return tuple(_as_array(r) for r in result)
            return _as_array(result)

        kernel(*names)(guarded)
        return fn

    return register


def _as_array(value: Any) -> Any:
    """NumPy hands back scalars for 0-d results; kernels must return arrays."""
    return np.asarray(value) if isinstance(value, np.generic) else value


def ints(value: Any) -> list[int]:
    """A shape/index input (scalar or vector) as a list of Python ints."""
    return [int(v) for v in np.asarray(value).reshape(-1)]


def scalar_int(value: Any, what: str) -> int:
    a = np.asarray(value)
    if a.size != 1:
        raise KernelError(f"{what} must be a scalar, got shape {list(a.shape)}")
    return int(a.reshape(-1)[0])


def norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    """Map a possibly negative axis into [0, rank), refusing out-of-range ones."""
    if not -rank <= axis < rank:
        raise KernelError(f"{what} {axis} is out of range for a tensor of rank {rank}")
    return axis + rank if axis < 0 else axis


def attr_bytes(value: Any) -> bytes:
    """A string attr as raw bytes (the loader decodes UTF-8 when it can)."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return bytes(value)


def to_bytes(item: Any) -> bytes:
    if isinstance(item, bytes):
        return bytes(item)  # also turns np.bytes_ into plain bytes
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise KernelError(f"expected a string element, got {type(item).__name__}")


def string_array(items: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Build a TF string tensor: an object array of ``bytes``."""
    flat = list(items)
    out = np.empty(len(flat), dtype=object)
    for i, item in enumerate(flat):
        out[i] = item
    return out.reshape(shape if shape is not None else (len(flat),))


def is_string(a: np.ndarray) -> bool:
    return a.dtype == object or a.dtype.kind in "SU"


def as_strings(value: Any) -> np.ndarray:
    """A string input as an object array of bytes, whatever NumPy form it came in."""
    a = np.asarray(value)
    if a.dtype == object and all(type(v) is bytes for v in a.reshape(-1)):
        return a
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1)):
        flat[i] = to_bytes(v)
    return out


def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise KernelError("incompatible shapes: " + " vs. ".join(str(list(s)) for s in shapes)) from None


def shape_array(shape: tuple[int, ...] | list[int], dtype: Any = np.int32) -> np.ndarray:
    return np.asarray(list(shape), dtype=dtype).reshape(len(shape))


def variant(value: Any) -> np.ndarray:
    """Wrap a Python object (a TensorList) as a scalar variant tensor."""
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def dtype_of(ctx: OpContext, key: str, default: Any = None) -> np.dtype:
    value = ctx.attr(key, default)
    if value is None:
        raise KernelError(f"{ctx.op} is missing its {key!r} attr")
    return np.dtype(value)
