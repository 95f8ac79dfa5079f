"""Depthwise convolution: each input channel convolved with its own filters.

The common case (one filter per channel) multiply-accumulates whole feature
maps, one window position at a time. It works a block of output rows at a time
so the accumulator stays in cache, and runs a fused elementwise tail (``ctx.epilogue``) on each finished block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from sm_explorer.exec.parallel import split

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
    geo.check_size(ctx, xl, w.shape[2] * w.shape[3])
    acc_t = accumulate_dtype(x)
    wt = w.astype(acc_t, copy=False)
    cin, mult = w.shape[2], w.shape[3]
    if mult == 1 and geo.positions():
        fused = ctx.epilogue if not first and acc_t == x.dtype else None
        out = _one_filter(np.ascontiguousarray(xl, dtype=acc_t), wt[..., 0], geo, fused)
        return from_last(out, first).astype(x.dtype, copy=False)
    xp = geo.pad(xl).astype(acc_t, copy=False)
    acc = np.zeros([xl.shape[0], *geo.out, cin, mult], dtype=acc_t)
    for p in geo.positions():
        acc += geo.view(xp, p)[..., None] * wt[p]
    out = acc.reshape(acc.shape[:-2] + (cin * mult,))
    return from_last(out, first).astype(x.dtype)


def _one_filter(x: np.ndarray, wk: np.ndarray, geo: Geometry, epilogue: Any) -> np.ndarray:
    """Sum over window positions of (shifted input * that position's per-channel weight).

    Every window position is a strided view of the input, so one ``einsum`` per
    block does all the multiply-adds in one pass. Without a column stride, a
    window row reads one contiguous run per output row, and tiling the weights
    along it gives NumPy long inner loops; with a stride, the runs are one pixel.
    The input is not padded: the pixels whose windows reach past its edges are
    computed apart, from small zero-padded copies of the edges.
    """
    n, height, width, channels = x.shape
    oh, ow = geo.out
    out = np.empty([n, oh, ow, channels], dtype=x.dtype)
    if out.size == 0:
        return out
    if epilogue is not None and not epilogue.bind(out.shape, out.dtype):
        epilogue = None
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilations
    (top, _), (left, _) = geo.pads
    rows = _inside(oh, height, kh, sh, dh, top)
    cols = _inside(ow, width, kw, sw, dw, left)
    tiled = _tiled(wk, len(cols)) if sw == 1 and cols else None
    # The edges first, each in one piece for all images; then the inside, block by block.
    inside = bool(rows) and bool(cols)
    if inside:
        edges = [((0, rows.start), (0, ow)), ((rows.stop, oh), (0, ow))]
        edges += [((rows.start, rows.stop), (0, cols.start)), ((rows.start, rows.stop), (cols.stop, ow))]
    else:
        edges = [((0, oh), (0, ow))]

    def edge_pieces(part: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> None:
        for span, across in part:
            _edge(x, wk, out, geo, (0, n), span, across)

    split(edge_pieces, [(span, across) for span, across in edges if span[0] < span[1] and across[0] < across[1]])
    flat = out.reshape(-1, channels)

    def run(part: Sequence[tuple[int, int, int, int]]) -> None:
        for block in part:
            n0, n1, h0, h1 = block
            r0, r1 = max(rows.start, h0), min(rows.stop, h1)
            if inside and r0 < r1:
                _interior(x, wk, tiled, out, geo, (n0, n1), (r0, r1), cols)
            if epilogue is not None:
                span = geo.block_rows(block)
                epilogue.apply(flat[span], span)

    split(run, geo.blocks(n, ow * channels, _BLOCK))
    return out


def _tiled(wk: np.ndarray, pixels: int) -> np.ndarray:
    """Each window position's per-channel weights repeated along a row of ``pixels`` pixels."""
    kh, kw = wk.shape[:2]
    return np.stack([np.stack([np.tile(wk[i, j], pixels) for j in range(kw)]) for i in range(kh)])


def _inside(out: int, size: int, k: int, s: int, d: int, before: int) -> range:
    """The output positions whose whole window lies inside the unpadded input."""
    first = -(-before // s)
    last = (size - 1 - (k - 1) * d + before) // s + 1 if size - 1 - (k - 1) * d + before >= 0 else 0
    first = min(first, out)
    return range(first, max(min(last, out), first))


def _interior(
    x: np.ndarray,
    wk: np.ndarray,
    tiled: np.ndarray | None,
    out: np.ndarray,
    geo: Geometry,
    images: tuple[int, int],
    rows: tuple[int, int],
    cols: range,
) -> None:
    (n0, n1), (r0, r1) = images, rows
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilations
    (top, _), (left, _) = geo.pads
    base = x[n0:n1, r0 * sh - top :, cols.start * sw - left :]
    sn, sr, sc, se = base.strides
    if tiled is not None:  # rows of pixels x channels, weights tiled along them
        span = len(cols) * x.shape[-1]
        view = as_strided(base, (n1 - n0, kh, kw, r1 - r0, span), (sn, dh * sr, dw * sc, sh * sr, se), writeable=False)
        target = out[n0:n1, r0:r1, cols.start :]
        target = as_strided(target, (n1 - n0, r1 - r0, span), (*target.strides[:2], target.strides[-1]))
        np.einsum("nijrw,ijw->nrw", view, tiled, out=target)
        return
    shape = (n1 - n0, kh, kw, r1 - r0, len(cols), x.shape[-1])
    view = as_strided(base, shape, (sn, dh * sr, dw * sc, sh * sr, sw * sc, se), writeable=False)
    np.einsum("nijrwc,ijc->nrwc", view, wk, out=out[n0:n1, r0:r1, cols.start : cols.stop])


def _edge(
    x: np.ndarray,
    wk: np.ndarray,
    out: np.ndarray,
    geo: Geometry,
    images: tuple[int, int],
    rows: tuple[int, int],
    cols: tuple[int, int],
) -> None:
    """Output pixels rows x cols, from a zero-padded copy of just the input they read."""
    (n0, n1), (a, b), (c, d) = images, rows, cols
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilations
    (top, _), (left, _) = geo.pads
    y0, y1 = a * sh - top, (b - 1) * sh - top + (kh - 1) * dh + 1
    x0, x1 = c * sw - left, (d - 1) * sw - left + (kw - 1) * dw + 1
    patch = np.zeros((n1 - n0, y1 - y0, x1 - x0, x.shape[-1]), dtype=x.dtype)
    iy0, iy1, ix0, ix1 = max(y0, 0), min(y1, x.shape[1]), max(x0, 0), min(x1, x.shape[2])
    if iy0 < iy1 and ix0 < ix1:
        patch[:, iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = x[n0:n1, iy0:iy1, ix0:ix1]
    sn, sr, sc, se = patch.strides
    if sw == 1 and d - c > 1:  # whole rows of pixels x channels, as inside
        span = (d - c) * x.shape[-1]
        view = as_strided(patch, (n1 - n0, kh, kw, b - a, span), (sn, dh * sr, dw * sc, sh * sr, se), writeable=False)
        tiled = _tiled(wk, d - c)
        target = out[n0:n1, a:b, c:]
        target = as_strided(target, (n1 - n0, b - a, span), (*target.strides[:2], target.strides[-1]))
        np.einsum("nijrw,ijw->nrw", view, tiled, out=target)
        return
    shape = (n1 - n0, kh, kw, b - a, d - c, x.shape[-1])
    view = as_strided(patch, shape, (sn, dh * sr, dw * sc, sh * sr, sw * sc, se), writeable=False)
    np.einsum("nijrwc,ijc->nrwc", view, wk, out=out[n0:n1, a:b, c:d])
