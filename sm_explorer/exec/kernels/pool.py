"""Max and average pooling over 2-D and 3-D windows, TF's padding rules."""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

from ._util import KernelError, OpContext, op
from .windows import Geometry, accumulate_dtype, channels_first, explicit_pads, from_last, spatial_attr, to_last


def _pool(ctx: OpContext, x: np.ndarray, ksize: Any, strides: Any, spatial: int, kind: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != spatial + 2:
        raise KernelError(f"input must be {spatial + 2}-D, got shape {list(x.shape)}")
    first = channels_first(ctx)
    xl = to_last(x, first)
    rank = xl.ndim
    window = spatial_attr(ksize, rank, first, "ksize")
    steps = spatial_attr(strides, rank, first, "strides")
    geo = Geometry(
        list(xl.shape[1:-1]),
        window,
        steps,
        [1] * spatial,
        str(ctx.attr("padding", "VALID")),
        explicit_pads(ctx, rank, first),
    )
    geo.check_size(ctx, xl, xl.shape[-1])
    if kind == "max":
        # TF scans up from the lowest finite value with a strict '>', so NaN and
        # -inf never win (an all-NaN window gives the lowest finite value): fmax.
        floating = x.dtype.kind == "f" or x.dtype == ml_dtypes.bfloat16
        lowest = ml_dtypes.finfo(x.dtype).min if floating else np.iinfo(x.dtype).min
        xp = geo.pad(xl, -np.inf if floating else lowest)
        acc = np.full([xl.shape[0], *geo.out, xl.shape[-1]], lowest, dtype=x.dtype)
        for p in geo.positions():
            acc = np.fmax(acc, geo.view(xp, p))
        return from_last(acc, first)
    acc_t = accumulate_dtype(x)
    xp = geo.pad(xl.astype(acc_t, copy=False))
    ones = geo.pad(np.ones((1, *xl.shape[1:-1], 1), dtype=acc_t))
    total = np.zeros([xl.shape[0], *geo.out, xl.shape[-1]], dtype=acc_t)
    count = np.zeros([1, *geo.out, 1], dtype=acc_t)
    for p in geo.positions():
        total += geo.view(xp, p)
        count += geo.view(ones, p)
    return from_last(total / np.maximum(count, 1), first).astype(x.dtype)


@op("MaxPool")
def max_pool(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return _pool(ctx, x, ctx.attr("ksize"), ctx.attr("strides"), 2, "max")


@op("MaxPoolV2")
def max_pool_v2(ctx: OpContext, x: np.ndarray, ksize: np.ndarray, strides: np.ndarray) -> np.ndarray:
    return _pool(ctx, x, ksize, strides, 2, "max")


@op("AvgPool")
def avg_pool(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return _pool(ctx, x, ctx.attr("ksize"), ctx.attr("strides"), 2, "avg")


@op("MaxPool3D")
def max_pool3d(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return _pool(ctx, x, ctx.attr("ksize"), ctx.attr("strides"), 3, "max")


@op("AvgPool3D")
def avg_pool3d(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return _pool(ctx, x, ctx.attr("ksize"), ctx.attr("strides"), 3, "avg")
