"""Convolutions over any number of spatial dims (2-D and 3-D ops).

Data is moved to channels-last and padded once. A convolution is a matrix
product over patches (im2col): a 1x1 convolution needs no patches, and larger
windows copy their patches a block of output rows at a time into one reused
buffer, so memory stays bounded and the product runs on cache-warm data. An
elementwise tail fused by the interpreter (``ctx.epilogue``) runs on each block
right after its product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sm_explorer.exec.parallel import matmul, split, threads

from ._util import KernelError, OpContext, ints, op
from .windows import Geometry, accumulate_dtype, channels_first, from_last, geometry, to_last

_PATCH_BLOCK = 1 << 20  # patch elements per block of a k x k convolution


def conv(x_last: np.ndarray, w: np.ndarray, geo: Geometry, epilogue: Any = None) -> np.ndarray:
    """Channels-last convolution; ``w`` is [*window, in/groups, out].

    ``epilogue``, when given and bound by this call, is run on every block of the output.
    """
    cin, cout = x_last.shape[-1], w.shape[-1]
    wcin = w.shape[-2]
    if wcin == 0 or cin % wcin:
        raise KernelError(f"input depth {cin} must be a multiple of filter depth {wcin}")
    groups = cin // wcin
    if cout % groups:
        raise KernelError(f"output depth {cout} must be a multiple of the group count {groups}")
    acc_t = accumulate_dtype(x_last)
    pointwise = all(k == 1 for k in geo.window) and all(st == 1 for st in geo.strides)
    if groups == 1 and pointwise and not any(a or b for a, b in geo.pads):
        # A 1x1 convolution is one matrix product over every pixel: no patches needed.
        flat = np.ascontiguousarray(x_last, dtype=acc_t).reshape(-1, cin)
        shape = [*x_last.shape[:-1], cout]
        tail = epilogue.apply if epilogue is not None and epilogue.bind(shape, acc_t) else None
        return matmul(flat, w.astype(acc_t, copy=False).reshape(cin, cout), tail).reshape(shape)
    xp = np.ascontiguousarray(geo.pad(x_last), dtype=acc_t)
    w = w.astype(acc_t, copy=False)
    n, out = x_last.shape[0], geo.out
    if groups == 1:
        return _im2col(xp, w.reshape(-1, cout), geo, n, epilogue)
    acc = np.zeros([n, *out, cout], dtype=acc_t)
    for p in geo.positions():
        patch = geo.view(xp, p)
        grouped = patch.reshape(patch.shape[:-1] + (groups, wcin))
        wg = w[p].reshape(wcin, groups, cout // groups)
        acc += np.einsum("...gc,cgo->...go", grouped, wg).reshape(acc.shape)
    return acc


def _im2col(xp: np.ndarray, wm: np.ndarray, geo: Geometry, n: int, epilogue: Any) -> np.ndarray:
    """The product of every patch with the filter matrix ``wm``, a block at a time."""
    cout = wm.shape[-1]
    result = np.empty([n, *geo.out, cout], dtype=xp.dtype)
    if result.size == 0:
        return result
    flat = result.reshape(-1, cout)
    row_elements = math.prod(geo.out[1:]) * wm.shape[0]
    total = n * geo.out[0] * row_elements
    blocks = geo.blocks(n, row_elements, max(min(_PATCH_BLOCK, total // threads()), 1))
    if epilogue is not None and not epilogue.bind(result.shape, result.dtype):
        epilogue = None

    def run(part: Sequence[tuple[int, int, int, int]]) -> None:
        buffer = np.empty(0, dtype=xp.dtype)  # one per thread, reused for its blocks
        for block in part:
            views = geo.patch_views(xp, block)
            lead = views[0].shape[:-1]
            rows = math.prod(lead)
            needed = rows * wm.shape[0]
            if buffer.size < needed:
                buffer = np.empty(needed, dtype=xp.dtype)
            patches = buffer[:needed].reshape(*lead, len(views), views[0].shape[-1])
            for j, view in enumerate(views):
                patches[..., j, :] = view
            span = geo.block_rows(block)
            np.matmul(patches.reshape(rows, -1), wm, out=flat[span])
            if epilogue is not None:
                epilogue.apply(flat[span], span)

    split(run, blocks)
    return result


def _conv_op(ctx: OpContext, x: np.ndarray, w: np.ndarray, spatial: int) -> np.ndarray:
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != spatial + 2 or w.ndim != spatial + 2:
        raise KernelError(f"input and filter must be {spatial + 2}-D, got {list(x.shape)} and {list(w.shape)}")
    first = channels_first(ctx)
    xl = to_last(x, first)
    geo = geometry(ctx, xl, list(w.shape[:spatial]), first)
    geo.check_size(ctx, xl, w.shape[-1])
    # The tail sees the output in its own layout and dtype: fuse only when ours is the same.
    fused = ctx.epilogue if not first and accumulate_dtype(x) == x.dtype else None
    return from_last(conv(xl, w, geo, fused), first).astype(x.dtype, copy=False)


@op("Conv2D")
def conv2d(ctx: OpContext, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _conv_op(ctx, x, w, 2)


@op("Conv3D")
def conv3d(ctx: OpContext, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _conv_op(ctx, x, w, 3)


@op("Conv2DBackpropInput", "Conv3DBackpropInputV2")
def conv_backprop_input(ctx: OpContext, sizes: np.ndarray, w: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Transposed convolution: scatter each output gradient back through the filter."""
    w, dy = np.asarray(w), np.asarray(dy)
    spatial = w.ndim - 2
    first = channels_first(ctx)
    dyl = to_last(dy, first)
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
    geo = geometry(ctx, fake, list(w.shape[:spatial]), first)
    if list(dyl.shape[1:-1]) != geo.out or dyl.shape[-1] != w.shape[-1]:
        raise KernelError(f"out_backprop shape {list(dy.shape)} does not match the forward convolution")
    acc_t = accumulate_dtype(dy)
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
    return from_last(dx[crop], first).astype(dy.dtype)
