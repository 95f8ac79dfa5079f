"""Depthwise convolution: each input channel convolved with its own filters.

The common case (one filter per channel) multiply-accumulates whole feature
maps, one window position at a time. It works a block of output rows at a time
so the accumulator stays in cache, and runs a fused elementwise tail (``ctx.epilogue``) on each finished block.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._util import KernelError, OpContext, op
from .windows import Geometry, accumulate_dtype, channels_first, from_last, geometry, to_last

_BLOCK = 1 << 16  # output elements per block: the accumulator and one scratch block fit in L2


@op("DepthwiseConv2dNative")
def depthwise_conv2d(ctx: OpContext, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Input channel c with its filter m gives output channel c*M + m."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 4 or w.ndim != 4:
        raise KernelError("input and filter must be 4-D")
    first = channels_first(ctx)
    xl = to_last(x, first)
    if w.shape[2] != xl.shape[-1]:
        raise KernelError(f"input depth {xl.shape[-1]} must equal filter in_channels {w.shape[2]}")
    geo = geometry(ctx, xl, list(w.shape[:2]), first)
    acc_t = accumulate_dtype(x)
    xp = np.ascontiguousarray(geo.pad(xl), dtype=acc_t)
    wt = w.astype(acc_t, copy=False)
    cin, mult = w.shape[2], w.shape[3]
    if mult == 1 and geo.positions():
        fused = ctx.epilogue if not first and acc_t == x.dtype else None
        out = _one_filter(xp, wt[..., 0], geo, fused)
        return from_last(out, first).astype(x.dtype, copy=False)
    acc = np.zeros([xl.shape[0], *geo.out, cin, mult], dtype=acc_t)
    for p in geo.positions():
        acc += geo.view(xp, p)[..., None] * wt[p]
    out = acc.reshape(acc.shape[:-2] + (cin * mult,))
    return from_last(out, first).astype(x.dtype)


def _one_filter(xp: np.ndarray, wk: np.ndarray, geo: Geometry, epilogue: Any) -> np.ndarray:
    """Sum over window positions of (shifted input * that position's per-channel weight).

    Every window position is a strided view of the padded input, so one ``einsum``
    per block does all the multiply-adds in one pass. Without a column stride,
    a window row reads one contiguous run per output row, and tiling the weights
    along it gives NumPy long inner loops; with a stride, the runs are one pixel.
    """
    channels = xp.shape[-1]
    n, (oh, ow) = xp.shape[0], geo.out
    out = np.empty([n, oh, ow, channels], dtype=xp.dtype)
    if out.size == 0:
        return out
    if epilogue is not None and not epilogue.bind(out.shape, out.dtype):
        epilogue = None
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilations
    flat = out.reshape(-1, channels)
    if sw == 1:
        width = ow * channels
        weights = np.stack([np.stack([np.tile(wk[i, j], ow) for j in range(kw)]) for i in range(kh)])
        source, target, equation = xp.reshape(n, xp.shape[1], -1), out.reshape(n, oh, width), "nijrw,ijw->nrw"
        shape, inner = (width,), (xp.strides[-1],)
    else:
        weights, source, target, equation = wk, xp, out, "nijrwc,ijc->nrwc"
        shape, inner = (ow, channels), (sw * xp.strides[-2], xp.strides[-1])
    for block in geo.blocks(n, ow * channels, _BLOCK):
        n0, n1, h0, h1 = block
        base = source[n0:n1, h0 * sh :]
        sn, sr, sc = base.strides[:3]
        column = dw * (sc if sw != 1 else channels * base.strides[-1])
        view = as_strided(
            base, (n1 - n0, kh, kw, h1 - h0, *shape), (sn, dh * sr, column, sh * sr, *inner), writeable=False
        )
        np.einsum(equation, view, weights, out=target[n0:n1, h0:h1])
        if epilogue is not None:
            span = geo.block_rows(block)
            epilogue.apply(flat[span], span)
    return out
