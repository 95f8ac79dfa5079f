"""Convolutions and pooling over any number of spatial dims (2-D and 3-D ops).

Data is moved to channels-last, padded once, and the kernel's window positions
are looped over (kh*kw iterations, each a whole-tensor NumPy op): either
stacked into one im2col matmul when that fits in memory, or accumulated.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import ml_dtypes
import numpy as np

from ._util import KernelError, OpContext, ints, op

_IM2COL_LIMIT = 1 << 24  # elements in the stacked patch matrix before we accumulate instead


class Geometry:
    """Output sizes and paddings of a windowed op, TF's rules for SAME/VALID/EXPLICIT."""

    def __init__(
        self,
        in_sizes: list[int],
        window: list[int],
        strides: list[int],
        dilations: list[int],
        padding: str,
        explicit: list[tuple[int, int]] | None,
    ) -> None:
        self.window, self.strides, self.dilations = window, strides, dilations
        self.out: list[int] = []
        self.pads: list[tuple[int, int]] = []
        for i, (size, k, s, d) in enumerate(zip(in_sizes, window, strides, dilations)):
            if s <= 0 or d <= 0:
                raise KernelError("strides and dilations must be positive")
            eff = (k - 1) * d + 1
            if padding == "SAME":
                out = -(-size // s)
                total = max((out - 1) * s + eff - size, 0)
                before, after = total // 2, total - total // 2
            elif padding == "VALID":
                before = after = 0
                out = (size - eff) // s + 1 if size >= eff else 0
            elif padding == "EXPLICIT":
                if explicit is None:
                    raise KernelError("EXPLICIT padding needs explicit_paddings")
                before, after = explicit[i]
                if before < 0 or after < 0:
                    raise KernelError("explicit paddings must be non-negative")
                out = (size + before + after - eff) // s + 1 if size + before + after >= eff else 0
            else:
                raise KernelError(f"unknown padding {padding!r}")
            if size + before + after < eff and padding != "SAME":
                raise KernelError(f"Computed output size would be negative: input {size}, window {eff}")
            self.out.append(out)
            self.pads.append((before, after))

    def positions(self) -> list[tuple[int, ...]]:
        return list(itertools.product(*(range(k) for k in self.window)))

    def view(self, padded: np.ndarray, pos: tuple[int, ...]) -> np.ndarray:
        """The input elements that window position ``pos`` sees, for every output pixel."""
        index = [slice(None)]
        for p, d, s, o in zip(pos, self.dilations, self.strides, self.out):
            index.append(slice(p * d, p * d + (o - 1) * s + 1, s) if o else slice(0, 0))
        return padded[tuple(index)]

    def pad(self, x: np.ndarray, value: Any = 0) -> np.ndarray:
        widths = [(0, 0), *self.pads, (0, 0)]
        if not any(b or a for b, a in self.pads):
            return x
        return np.pad(x, widths, constant_values=value)


def _channels_first(ctx: OpContext) -> bool:
    return str(ctx.attr("data_format", "NHWC")).startswith("NC")


def _to_last(x: np.ndarray, first: bool) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if first else x


def _from_last(x: np.ndarray, first: bool) -> np.ndarray:
    return np.asarray(np.moveaxis(x, -1, 1) if first else x, order="C")


def _spatial(values: Any, rank: int, first: bool, what: str, default: int = 1) -> list[int]:
    """Spatial entries of a per-dimension attr given in data-format order."""
    v = ints(values) if values is not None else [default] * rank
    if len(v) != rank:
        raise KernelError(f"{what} must have {rank} entries, got {v}")
    if v[0] != 1 or v[1 if first else -1] != 1:
        raise KernelError(f"{what} on the batch and depth dimensions must be 1, got {v}")
    return v[2:] if first else v[1:-1]


def _explicit(ctx: OpContext, rank: int, first: bool) -> list[tuple[int, int]] | None:
    flat = ctx.attr("explicit_paddings") or []
    if str(ctx.attr("padding", "VALID")) != "EXPLICIT":
        return None
    if len(flat) != 2 * rank:
        raise KernelError(f"explicit_paddings must have {2 * rank} entries, got {len(flat)}")
    pairs = [(int(flat[2 * i]), int(flat[2 * i + 1])) for i in range(rank)]
    return pairs[2:] if first else pairs[1:-1]


def _geometry(ctx: OpContext, x_last: np.ndarray, window: list[int], first: bool) -> Geometry:
    rank = x_last.ndim
    strides = _spatial(ctx.attr("strides"), rank, first, "strides")
    dilations = _spatial(ctx.attr("dilations"), rank, first, "dilations")
    return Geometry(
        list(x_last.shape[1:-1]),
        window,
        strides,
        dilations,
        str(ctx.attr("padding", "VALID")),
        _explicit(ctx, rank, first),
    )


def _accumulate_dtype(x: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if x.dtype.kind == "f" and x.dtype.itemsize < 4 or x.dtype.kind == "V" else x.dtype


def conv(x_last: np.ndarray, w: np.ndarray, geo: Geometry) -> np.ndarray:
    """Channels-last convolution; ``w`` is [*window, in/groups, out]."""
    cin, cout = x_last.shape[-1], w.shape[-1]
    wcin = w.shape[-2]
    if wcin == 0 or cin % wcin:
        raise KernelError(f"input depth {cin} must be a multiple of filter depth {wcin}")
    groups = cin // wcin
    if cout % groups:
        raise KernelError(f"output depth {cout} must be a multiple of the group count {groups}")
    acc_t = _accumulate_dtype(x_last)
    pointwise = all(k == 1 for k in geo.window) and all(st == 1 for st in geo.strides)
    if groups == 1 and pointwise and not any(a or b for a, b in geo.pads):
        # A 1x1 convolution is one matrix product over every pixel: no patches needed.
        flat = np.ascontiguousarray(x_last, dtype=acc_t).reshape(-1, cin)
        return (flat @ w.astype(acc_t, copy=False).reshape(cin, cout)).reshape([*x_last.shape[:-1], cout])
    xp = geo.pad(x_last).astype(acc_t, copy=False)
    w = w.astype(acc_t, copy=False)
    positions = geo.positions()
    n, out = x_last.shape[0], geo.out
    if groups == 1 and n * math.prod(out) * len(positions) * cin <= _IM2COL_LIMIT:
        patches = np.stack([geo.view(xp, p) for p in positions], axis=-2)  # N, *out, K, Cin
        cols = patches.reshape(-1, len(positions) * cin)
        return (cols @ w.reshape(-1, cout)).reshape([n, *out, cout])
    acc = np.zeros([n, *out, cout], dtype=acc_t)
    for p in positions:
        patch = geo.view(xp, p)
        if groups == 1:
            acc += patch @ w[p]
        else:
            grouped = patch.reshape(patch.shape[:-1] + (groups, wcin))
            wg = w[p].reshape(wcin, groups, cout // groups)
            acc += np.einsum("...gc,cgo->...go", grouped, wg).reshape(acc.shape)
    return acc


def _conv_op(ctx: OpContext, x: np.ndarray, w: np.ndarray, spatial: int) -> np.ndarray:
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != spatial + 2 or w.ndim != spatial + 2:
        raise KernelError(f"input and filter must be {spatial + 2}-D, got {list(x.shape)} and {list(w.shape)}")
    first = _channels_first(ctx)
    xl = _to_last(x, first)
    geo = _geometry(ctx, xl, list(w.shape[:spatial]), first)
    return _from_last(conv(xl, w, geo), first).astype(x.dtype)


@op("Conv2D")
def conv2d(ctx: OpContext, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _conv_op(ctx, x, w, 2)


@op("Conv3D")
def conv3d(ctx: OpContext, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _conv_op(ctx, x, w, 3)


@op("DepthwiseConv2dNative")
def depthwise_conv2d(ctx: OpContext, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each input channel c convolved with its own M filters -> channel c*M + m."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 4 or w.ndim != 4:
        raise KernelError("input and filter must be 4-D")
    first = _channels_first(ctx)
    xl = _to_last(x, first)
    if w.shape[2] != xl.shape[-1]:
        raise KernelError(f"input depth {xl.shape[-1]} must equal filter in_channels {w.shape[2]}")
    geo = _geometry(ctx, xl, list(w.shape[:2]), first)
    acc_t = _accumulate_dtype(x)
    xp = geo.pad(xl).astype(acc_t, copy=False)
    wt = w.astype(acc_t, copy=False)
    cin, mult = w.shape[2], w.shape[3]
    positions = geo.positions()
    if mult == 1 and positions:
        # The common case: multiply-accumulate whole feature maps, no temporaries per step.
        wk = wt[..., 0]
        out = geo.view(xp, positions[0]) * wk[positions[0]]
        scratch = np.empty_like(out)
        for p in positions[1:]:
            np.multiply(geo.view(xp, p), wk[p], out=scratch)
            out += scratch
        return _from_last(out, first).astype(x.dtype, copy=False)
    acc = np.zeros([xl.shape[0], *geo.out, cin, mult], dtype=acc_t)
    for p in positions:
        acc += geo.view(xp, p)[..., None] * wt[p]
    out = acc.reshape(acc.shape[:-2] + (cin * mult,))
    return _from_last(out, first).astype(x.dtype)


@op("Conv2DBackpropInput", "Conv3DBackpropInputV2")
def conv_backprop_input(ctx: OpContext, sizes: np.ndarray, w: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Transposed convolution: scatter each output gradient back through the filter."""
    w, dy = np.asarray(w), np.asarray(dy)
    spatial = w.ndim - 2
    first = _channels_first(ctx)
    dyl = _to_last(dy, first)
    dims = ints(sizes)
    if len(dims) == spatial:
        in_spatial = dims
    elif len(dims) == spatial + 2:
        in_spatial = dims[2:] if first else dims[1:-1]
    else:
        raise KernelError(f"input_sizes must have {spatial + 2} entries, got {dims}")
    n, cin = dyl.shape[0], w.shape[-2]
    ctx.check_size(n * math.prod(in_spatial) * cin)
    fake = np.empty([n, *in_spatial, cin], dtype=np.uint8)
    geo = _geometry(ctx, fake, list(w.shape[:spatial]), first)
    if list(dyl.shape[1:-1]) != geo.out or dyl.shape[-1] != w.shape[-1]:
        raise KernelError(f"out_backprop shape {list(dy.shape)} does not match the forward convolution")
    acc_t = _accumulate_dtype(dy)
    padded = [
        max(size + b + a, (k - 1) * d + 1 + (o - 1) * s)
        for size, (b, a), k, d, s, o in zip(in_spatial, geo.pads, geo.window, geo.dilations, geo.strides, geo.out)
    ]
    dx = np.zeros([n, *padded, cin], dtype=acc_t)
    wt = w.astype(acc_t, copy=False)
    dyc = dyl.astype(acc_t, copy=False)
    for p in geo.positions():
        geo.view(dx, p)[...] += dyc @ np.swapaxes(wt[p], -1, -2)
    crop = (slice(None), *(slice(b, b + size) for (b, _), size in zip(geo.pads, in_spatial)), slice(None))
    return _from_last(dx[crop], first).astype(dy.dtype)


def _pool(ctx: OpContext, x: np.ndarray, ksize: Any, strides: Any, spatial: int, kind: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != spatial + 2:
        raise KernelError(f"input must be {spatial + 2}-D, got shape {list(x.shape)}")
    first = _channels_first(ctx)
    xl = _to_last(x, first)
    rank = xl.ndim
    window = _spatial(ksize, rank, first, "ksize")
    steps = _spatial(strides, rank, first, "strides")
    geo = Geometry(
        list(xl.shape[1:-1]),
        window,
        steps,
        [1] * spatial,
        str(ctx.attr("padding", "VALID")),
        _explicit(ctx, rank, first),
    )
    if kind == "max":
        # TF scans up from the lowest finite value with a strict '>', so NaN and
        # -inf never win (an all-NaN window gives the lowest finite value): fmax.
        floating = x.dtype.kind == "f" or x.dtype == ml_dtypes.bfloat16
        lowest = ml_dtypes.finfo(x.dtype).min if floating else np.iinfo(x.dtype).min
        xp = geo.pad(xl, -np.inf if floating else lowest)
        acc = np.full([xl.shape[0], *geo.out, xl.shape[-1]], lowest, dtype=x.dtype)
        for p in geo.positions():
            acc = np.fmax(acc, geo.view(xp, p))
        return _from_last(acc, first)
    acc_t = _accumulate_dtype(x)
    xp = geo.pad(xl.astype(acc_t, copy=False))
    ones = geo.pad(np.ones((1, *xl.shape[1:-1], 1), dtype=acc_t))
    total = np.zeros([xl.shape[0], *geo.out, xl.shape[-1]], dtype=acc_t)
    count = np.zeros([1, *geo.out, 1], dtype=acc_t)
    for p in geo.positions():
        total += geo.view(xp, p)
        count += geo.view(ones, p)
    return _from_last(total / np.maximum(count, 1), first).astype(x.dtype)


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
