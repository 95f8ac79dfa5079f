"""Reductions, arg-reductions, cumulative ops and segment sums.

Reductions accumulate in the input dtype (TF does too: an int32 Sum wraps, an
integer Mean divides with truncation) and empty reductions give the identity.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

from ._util import KernelError, OpContext, ints, norm_axis, op, scalar_int


def reduction_axes(axis: Any, rank: int) -> tuple[int, ...]:
    """Normalize a reduction-indices input, refusing duplicates like TF."""
    axes = [norm_axis(a, rank, "reduction axis") if rank else _scalar_axis(a) for a in ints(axis)]
    if len(set(axes)) != len(axes):
        raise KernelError(f"Invalid reduction arguments: axes contain duplicates {ints(axis)}")
    return tuple(axes)


def _scalar_axis(a: int) -> int:
    if a not in (0, -1):
        raise KernelError(f"Invalid reduction dimension {a} for a scalar input")
    return -1  # marker: nothing to reduce


def _reduce(ctx: OpContext, x: np.ndarray, axis: np.ndarray, fn: Any) -> np.ndarray:
    x = np.asarray(x)
    axes = tuple(a for a in reduction_axes(axis, x.ndim) if a >= 0)
    keep = bool(ctx.attr("keep_dims", False))
    return np.asarray(fn(x, axes, keep))


def _sum(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    return np.sum(x, axis=axes, dtype=x.dtype, keepdims=keep)


def _prod(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    return np.prod(x, axis=axes, dtype=x.dtype, keepdims=keep)


def _mean(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    total = np.sum(x, axis=axes, dtype=x.dtype, keepdims=keep)
    if x.dtype.kind in "iu":
        if count == 0:
            raise KernelError("Mean of an empty integer tensor")
        sign = np.where(total < 0, -1, 1).astype(x.dtype) if x.dtype.kind == "i" else 1
        return (np.abs(total) // x.dtype.type(count)) * sign
    return np.asarray(total / np.asarray(count, dtype=x.dtype), dtype=x.dtype)


def _extreme(x: np.ndarray, axes: tuple[int, ...], keep: bool, largest: bool) -> np.ndarray:
    if x.dtype == np.bool_:
        return (np.any if largest else np.all)(x, axis=axes, keepdims=keep)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        initial = info.min if largest else info.max
    else:
        initial = -np.inf if largest else np.inf
    fn = np.max if largest else np.min
    return fn(x, axis=axes, keepdims=keep, initial=x.dtype.type(initial))


@op("Sum")
def sum_(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, _sum)


@op("Prod")
def prod(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, _prod)


@op("Mean")
def mean(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, _mean)


@op("Max")
def max_(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, lambda a, ax, k: _extreme(a, ax, k, True))


@op("Min")
def min_(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, lambda a, ax, k: _extreme(a, ax, k, False))


@op("All")
def all_(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, lambda a, ax, k: np.all(a, axis=ax, keepdims=k))


@op("Any")
def any_(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _reduce(ctx, x, axis, lambda a, ax, k: np.any(a, axis=ax, keepdims=k))


@op("EuclideanNorm")
def euclidean_norm(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    def norm(a: np.ndarray, ax: tuple[int, ...], k: bool) -> np.ndarray:
        return np.sqrt(np.sum(a * a, axis=ax, dtype=a.dtype, keepdims=k)).astype(a.dtype)

    return _reduce(ctx, x, axis, norm)


def _arg_extreme(ctx: OpContext, x: np.ndarray, dimension: np.ndarray, largest: bool) -> np.ndarray:
    """TF scans with a strict comparison from the type's lowest finite value, so
    NaN never wins and an all-NaN (or all -inf) row gives index 0."""
    x = np.asarray(x)
    axis = norm_axis(scalar_int(dimension, "dimension"), max(x.ndim, 1), "dimension")
    if x.ndim == 0 or x.shape[axis] == 0:
        raise KernelError(f"Reduction axis {axis} is empty in shape {list(x.shape)}")
    out_type = np.dtype(ctx.attr("output_type", np.int64))
    if x.dtype.kind == "f" or x.dtype == ml_dtypes.bfloat16:
        wide = x.astype(np.float64)
        limit = float(ml_dtypes.finfo(x.dtype).max)
        if largest:
            wide = np.where(np.isnan(wide) | (wide <= -limit), -np.inf, wide)
            idx = np.argmax(wide, axis=axis)
            never = np.take_along_axis(wide, np.expand_dims(idx, axis), axis).squeeze(axis) == -np.inf
        else:
            wide = np.where(np.isnan(wide) | (wide >= limit), np.inf, wide)
            idx = np.argmin(wide, axis=axis)
            never = np.take_along_axis(wide, np.expand_dims(idx, axis), axis).squeeze(axis) == np.inf
        idx = np.where(never, 0, idx)
    else:
        idx = np.argmax(x, axis=axis) if largest else np.argmin(x, axis=axis)
    return np.asarray(idx, dtype=out_type)


@op("ArgMax")
def arg_max(ctx: OpContext, x: np.ndarray, dimension: np.ndarray) -> np.ndarray:
    return _arg_extreme(ctx, x, dimension, True)


@op("ArgMin")
def arg_min(ctx: OpContext, x: np.ndarray, dimension: np.ndarray) -> np.ndarray:
    return _arg_extreme(ctx, x, dimension, False)


def _cumulative(ctx: OpContext, x: np.ndarray, axis: np.ndarray, product: bool) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 0:
        raise KernelError("cumulative ops need an input of rank >= 1")
    ax = norm_axis(scalar_int(axis, "axis"), x.ndim)
    exclusive, reverse = bool(ctx.attr("exclusive", False)), bool(ctx.attr("reverse", False))
    data = np.flip(x, ax) if reverse else x
    fn = np.cumprod if product else np.cumsum
    out = fn(data, axis=ax, dtype=x.dtype)
    if exclusive:
        ident = np.ones_like if product else np.zeros_like
        first = ident(np.take(out, [0], axis=ax))
        out = np.concatenate([first, np.take(out, range(out.shape[ax] - 1), axis=ax)], axis=ax)
    return np.asarray(np.flip(out, ax) if reverse else out)


@op("Cumsum")
def cumsum(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _cumulative(ctx, x, axis, False)


@op("Cumprod")
def cumprod(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _cumulative(ctx, x, axis, True)


def _segments(ctx: OpContext, data: np.ndarray, ids: np.ndarray, num: int, kind: str) -> np.ndarray:
    data, ids = np.asarray(data), np.asarray(ids)
    if data.shape[: ids.ndim] != ids.shape:
        raise KernelError(f"segment ids shape {list(ids.shape)} must prefix data shape {list(data.shape)}")
    if num < 0:
        raise KernelError("num_segments must be non-negative")
    inner = data.shape[ids.ndim :]
    ctx.check_size(num * int(np.prod(inner, dtype=np.int64)))
    flat_ids = ids.reshape(-1).astype(np.int64)
    rows = data.reshape((-1,) + inner)
    keep = (flat_ids >= 0) & (flat_ids < num)  # TF drops negative ids in unsorted ops
    if kind == "sum":
        out = np.zeros((num,) + inner, dtype=data.dtype)
        np.add.at(out, flat_ids[keep], rows[keep])
    elif kind == "prod":
        out = np.ones((num,) + inner, dtype=data.dtype)
        np.multiply.at(out, flat_ids[keep], rows[keep])
    else:
        largest = kind == "max"
        if data.dtype.kind in "iu":
            info = np.iinfo(data.dtype)
            fill: Any = info.min if largest else info.max
        else:  # TF fills empty unsorted segments with the lowest/highest finite value
            info = ml_dtypes.finfo(data.dtype)
            fill = info.min if largest else info.max
        out = np.full((num,) + inner, fill, dtype=data.dtype)
        (np.maximum if largest else np.minimum).at(out, flat_ids[keep], rows[keep])
    return out


for _kind in ("sum", "prod", "max", "min"):

    def _unsorted(ctx: OpContext, data: np.ndarray, ids: np.ndarray, num: np.ndarray, _k: str = _kind) -> np.ndarray:
        return _segments(ctx, data, ids, scalar_int(num, "num_segments"), _k)

    def _sorted(ctx: OpContext, data: np.ndarray, ids: np.ndarray, _k: str = _kind) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1 or np.any(np.diff(ids) < 0) or (ids.size and ids[0] < 0):
            raise KernelError("segment_ids must be a sorted, non-negative vector")
        num = int(ids[-1]) + 1 if ids.size else 0
        out = _segments(ctx, data, ids, num, _k)
        if _k in ("max", "min"):  # sorted segment ops give 0 for empty segments
            empty = np.bincount(ids.astype(np.int64), minlength=num) == 0
            out[empty] = 0
        return out

    op(f"UnsortedSegment{_kind.title()}")(_unsorted)
    op(f"Segment{_kind.title()}")(_sorted)
