"""TensorList ops (the variant lists tf.while_loop / Keras RNNs accumulate into).

A list travels between nodes as a scalar object array holding a ``TensorList``.
Lists are values: every op returns a new ``TensorList`` and never mutates its
input, so a loop body can't alias an earlier iteration's list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._util import KernelError, OpContext, ints, op, scalar_int, variant

Shape = tuple[int | None, ...] | None


@dataclass(frozen=True)
class TensorList:
    """An immutable list of arrays; ``None`` items are not yet set (zeros when read)."""

    items: tuple[np.ndarray | None, ...]
    element_shape: Shape
    dtype: np.dtype

    def __repr__(self) -> str:
        return f"TensorList(len={len(self.items)}, element_shape={self.element_shape}, dtype={self.dtype})"


def _shape_input(value: Any) -> Shape:
    """An element_shape input: -1 scalar = unknown rank, -1 entries = unknown dims."""
    a = np.asarray(value)
    if a.ndim == 0:
        if int(a) != -1:
            raise KernelError(f"element_shape scalar must be -1 (unknown rank), got {int(a)}")
        return None
    return tuple(None if d < 0 else d for d in ints(a))


def _merge(a: Shape, b: Shape) -> Shape:
    if a is None:
        return b
    if b is None:
        return a
    if len(a) != len(b):
        raise KernelError(f"incompatible element shapes {a} and {b}")
    out = []
    for x, y in zip(a, b):
        if x is not None and y is not None and x != y:
            raise KernelError(f"incompatible element shapes {a} and {b}")
        out.append(x if x is not None else y)
    return tuple(out)


def _get(handle: Any) -> TensorList:
    value = np.asarray(handle, dtype=object).reshape(-1)
    if value.size != 1 or not isinstance(value[0], TensorList):
        raise KernelError("expected a TensorList handle")
    return value[0]


def _check_item(tl: TensorList, item: np.ndarray) -> np.ndarray:
    _merge(tl.element_shape, item.shape)
    return item.astype(tl.dtype, copy=False)


def _known(shape: Shape) -> tuple[int, ...] | None:
    """The shape as plain ints, or None if the rank or a dim is unknown."""
    if shape is None or any(d is None for d in shape):
        return None
    return tuple(d for d in shape if d is not None)


def _zeros(tl: TensorList, shape: Shape, ctx: OpContext) -> np.ndarray:
    full = _known(_merge(tl.element_shape, shape))
    if full is None:
        raise KernelError("Trying to read an uninitialized tensor with a partially known element shape")
    ctx.check_size(math.prod(full))
    return np.zeros(full, dtype=tl.dtype)


def _read(tl: TensorList, index: int, shape: Shape, ctx: OpContext) -> np.ndarray:
    if not 0 <= index < len(tl.items):
        raise KernelError(f"Trying to access element {index} in a list with {len(tl.items)} elements.")
    item = tl.items[index]
    return _zeros(tl, shape, ctx) if item is None else item


@op("EmptyTensorList")
def empty_tensor_list(ctx: OpContext, element_shape: np.ndarray, max_num_elements: np.ndarray) -> np.ndarray:
    return variant(TensorList((), _shape_input(element_shape), np.dtype(ctx.attr("element_dtype"))))


@op("TensorListReserve")
def tensor_list_reserve(ctx: OpContext, element_shape: np.ndarray, num_elements: np.ndarray) -> np.ndarray:
    n = scalar_int(num_elements, "num_elements")
    if n < 0:
        raise KernelError(f"The num_elements to reserve must be a non negative number, but got {n}")
    ctx.check_size(n)
    return variant(TensorList((None,) * n, _shape_input(element_shape), np.dtype(ctx.attr("element_dtype"))))


@op("TensorListFromTensor")
def tensor_list_from_tensor(ctx: OpContext, tensor: np.ndarray, element_shape: np.ndarray) -> np.ndarray:
    tensor = np.asarray(tensor)
    if tensor.ndim < 1:
        raise KernelError("Tensor must be at least a vector")
    shape = _merge(_shape_input(element_shape), tensor.shape[1:])
    return variant(TensorList(tuple(tensor[i] for i in range(tensor.shape[0])), shape, tensor.dtype))


@op("TensorListLength")
def tensor_list_length(ctx: OpContext, handle: np.ndarray) -> np.ndarray:
    return np.asarray(len(_get(handle).items), dtype=np.int32)


@op("TensorListElementShape")
def tensor_list_element_shape(ctx: OpContext, handle: np.ndarray) -> np.ndarray:
    shape = _get(handle).element_shape
    dtype = ctx.attr("shape_type", np.int32)
    if shape is None:
        return np.asarray(-1, dtype=dtype)
    return np.asarray([-1 if d is None else d for d in shape], dtype=dtype).reshape(len(shape))


@op("TensorListGetItem")
def tensor_list_get_item(
    ctx: OpContext, handle: np.ndarray, index: np.ndarray, element_shape: np.ndarray
) -> np.ndarray:
    tl = _get(handle)
    return _read(tl, scalar_int(index, "index"), _shape_input(element_shape), ctx)


@op("TensorListSetItem")
def tensor_list_set_item(ctx: OpContext, handle: np.ndarray, index: np.ndarray, item: np.ndarray) -> np.ndarray:
    tl = _get(handle)
    i = scalar_int(index, "index")
    items = list(tl.items)
    if i >= len(items) and ctx.attr("resize_if_index_out_of_bounds", False):
        ctx.check_size(i + 1)
        items.extend([None] * (i + 1 - len(items)))
    if not 0 <= i < len(items):
        raise KernelError(f"Trying to modify element {i} in a list with {len(items)} elements.")
    items[i] = _check_item(tl, np.asarray(item))
    return variant(replace(tl, items=tuple(items)))


@op("TensorListPushBack")
def tensor_list_push_back(ctx: OpContext, handle: np.ndarray, item: np.ndarray) -> np.ndarray:
    tl = _get(handle)
    return variant(replace(tl, items=tl.items + (_check_item(tl, np.asarray(item)),)))


@op("TensorListPopBack")
def tensor_list_pop_back(
    ctx: OpContext, handle: np.ndarray, element_shape: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    tl = _get(handle)
    if not tl.items:
        raise KernelError("Trying to pop from an empty list.")
    last = _read(tl, len(tl.items) - 1, _shape_input(element_shape), ctx)
    return variant(replace(tl, items=tl.items[:-1])), last


@op("TensorListResize")
def tensor_list_resize(ctx: OpContext, handle: np.ndarray, size: np.ndarray) -> np.ndarray:
    tl = _get(handle)
    n = scalar_int(size, "size")
    if n < 0:
        raise KernelError(f"TensorListResize expects size to be non-negative. Got: {n}")
    ctx.check_size(n)
    items = tl.items[:n] + (None,) * max(0, n - len(tl.items))
    return variant(replace(tl, items=items))


def _stack(ctx: OpContext, tl: TensorList, indices: list[int], shape: Shape) -> np.ndarray:
    full = _known(_merge(tl.element_shape, shape))
    rows = [_read(tl, i, shape, ctx) for i in indices]
    if not rows:
        if full is None:
            raise KernelError("Tried to stack elements of an empty list with non-fully-defined element_shape")
        return np.zeros((0, *full), dtype=tl.dtype)
    first = rows[0].shape
    if any(r.shape != first for r in rows):
        raise KernelError("Tried to stack list elements of different shapes")
    ctx.check_size(len(rows) * math.prod(first))
    return np.stack(rows).astype(tl.dtype, copy=False)


@op("TensorListStack")
def tensor_list_stack(ctx: OpContext, handle: np.ndarray, element_shape: np.ndarray) -> np.ndarray:
    tl = _get(handle)
    want = int(ctx.attr("num_elements", -1))
    if want != -1 and want != len(tl.items):
        raise KernelError(
            f"Operation expected a list with {want} elements but got a list with {len(tl.items)} elements."
        )
    return _stack(ctx, tl, list(range(len(tl.items))), _shape_input(element_shape))


@op("TensorListGather")
def tensor_list_gather(
    ctx: OpContext, handle: np.ndarray, indices: np.ndarray, element_shape: np.ndarray
) -> np.ndarray:
    tl = _get(handle)
    return _stack(ctx, tl, ints(indices), _shape_input(element_shape))


def _scatter(tl: TensorList, tensor: np.ndarray, indices: list[int]) -> TensorList:
    if tensor.ndim < 1 or tensor.shape[0] != len(indices):
        raise KernelError("Invalid number of rows in input tensor for the given indices")
    items = list(tl.items)
    for row, i in zip(tensor, indices):
        if i < 0:
            raise KernelError(f"Indices in TensorListScatter must all be non-negative, got {i}")
        if i >= len(items):
            items.extend([None] * (i + 1 - len(items)))
        items[i] = _check_item(tl, row)
    return replace(tl, items=tuple(items))


@op("TensorListScatterIntoExistingList")
def tensor_list_scatter_into(ctx: OpContext, handle: np.ndarray, tensor: np.ndarray, indices: np.ndarray) -> np.ndarray:
    tensor = np.asarray(tensor)
    ctx.check_size(max(ints(indices), default=0) + 1)
    return variant(_scatter(_get(handle), tensor, ints(indices)))


@op("TensorListScatterV2", "TensorListScatter")
def tensor_list_scatter(
    ctx: OpContext, tensor: np.ndarray, indices: np.ndarray, element_shape: np.ndarray, *num_elements: np.ndarray
) -> np.ndarray:
    tensor = np.asarray(tensor)
    idx = ints(indices)
    n = scalar_int(num_elements[0], "num_elements") if num_elements else -1
    size = max(n, max(idx, default=-1) + 1)
    ctx.check_size(size)
    shape = _merge(_shape_input(element_shape), tensor.shape[1:])
    return variant(_scatter(TensorList((None,) * size, shape, tensor.dtype), tensor, idx))
