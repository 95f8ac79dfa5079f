"""Window geometry shared by convolutions and pooling: TF's output sizes and
paddings, data formats, and the strided views a window position sees.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._util import KernelError, OpContext, ints

__all__ = [
    "Geometry",
    "channels_first",
    "to_last",
    "from_last",
    "spatial_attr",
    "explicit_pads",
    "geometry",
    "accumulate_dtype",
]


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

    def check_size(self, ctx: OpContext, x_last: np.ndarray, out_channels: int) -> None:
        """Refuse an output or a padded input over the execution budget (pads come from the file)."""
        n, channels = x_last.shape[0], x_last.shape[-1]
        ctx.check_size(n * math.prod(self.out) * out_channels)
        ctx.check_size(n * math.prod(d + a + b for d, (a, b) in zip(x_last.shape[1:-1], self.pads)) * channels)

    def pad(self, x: np.ndarray, value: Any = 0) -> np.ndarray:
        widths = [(0, 0), *self.pads, (0, 0)]
        if not any(b or a for b, a in self.pads):
            return x
        return np.pad(x, widths, constant_values=value)

    def blocks(self, images: int, row_elements: int, target: int = 1 << 20) -> list[tuple[int, int, int, int]]:
        """Blocks of the output as (first image, end image, first row, end row), where a
        row is one index of the first spatial dim and holds ``row_elements`` elements:
        whole images when they are small, rows of one image when they are large."""
        rows = self.out[0] if self.out else 1
        per_image = rows * row_elements
        if per_image <= target:
            step = max(1, target // max(per_image, 1))
            return [(n, min(n + step, images), 0, rows) for n in range(0, images, step)]
        step = max(1, target // max(row_elements, 1))
        return [(n, n + 1, h, min(h + step, rows)) for n in range(images) for h in range(0, rows, step)]

    def block_rows(self, block: tuple[int, int, int, int]) -> slice:
        """The rows of the output, viewed as [pixels, channels], that a block covers."""
        n0, n1, h0, h1 = block
        rows, inner = (self.out[0], math.prod(self.out[1:])) if self.out else (1, 1)
        return slice((n0 * rows + h0) * inner, ((n1 - 1) * rows + h1) * inner)

    def patch_views(self, padded: np.ndarray, block: tuple[int, int, int, int]) -> list[np.ndarray]:
        """For one output block, the input each window position sees: [n, *out, inner].

        When the last spatial dim is not dilated, its window and the channels are one
        contiguous run of memory, so one view covers all of that dim's positions
        (``inner`` = window * channels) and the patch copy moves long runs.
        """
        n0, n1, h0, h1 = block
        spatial = len(self.window)
        merged = spatial > 0 and self.dilations[-1] == 1 and padded.flags.c_contiguous
        base = padded
        if merged:
            s = padded.strides
            channels = padded.shape[-1]
            shape = (*padded.shape[:-2], self.out[-1], self.window[-1] * channels)
            strides = (*s[:-2], s[-2] * self.strides[-1], s[-1])
            base = as_strided(padded, shape, strides, writeable=False)
        ranges = [range(k) for k in (self.window[:-1] if merged else self.window)]
        views = []
        for pos in itertools.product(*ranges):
            index: list[slice] = [slice(n0, n1)]
            for i in range(spatial):
                lo, hi = (h0, h1) if i == 0 else (0, self.out[i])
                if merged and i == spatial - 1:
                    index.append(slice(lo, hi))
                elif hi <= lo:
                    index.append(slice(0, 0))
                else:
                    start = pos[i] * self.dilations[i] + lo * self.strides[i]
                    index.append(slice(start, start + (hi - lo - 1) * self.strides[i] + 1, self.strides[i]))
            views.append(base[tuple(index)])
        return views


def channels_first(ctx: OpContext) -> bool:
    return str(ctx.attr("data_format", "NHWC")).startswith("NC")


def to_last(x: np.ndarray, first: bool) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if first else x


def from_last(x: np.ndarray, first: bool) -> np.ndarray:
    return np.asarray(np.moveaxis(x, -1, 1) if first else x, order="C")


def spatial_attr(values: Any, rank: int, first: bool, what: str, default: int = 1) -> list[int]:
    """Spatial entries of a per-dimension attr given in data-format order."""
    v = ints(values) if values is not None else [default] * rank
    if len(v) != rank:
        raise KernelError(f"{what} must have {rank} entries, got {v}")
    if v[0] != 1 or v[1 if first else -1] != 1:
        raise KernelError(f"{what} on the batch and depth dimensions must be 1, got {v}")
    return v[2:] if first else v[1:-1]


def explicit_pads(ctx: OpContext, rank: int, first: bool) -> list[tuple[int, int]] | None:
    flat = ctx.attr("explicit_paddings") or []
    if str(ctx.attr("padding", "VALID")) != "EXPLICIT":
        return None
    if len(flat) != 2 * rank:
        raise KernelError(f"explicit_paddings must have {2 * rank} entries, got {len(flat)}")
    pairs = [(int(flat[2 * i]), int(flat[2 * i + 1])) for i in range(rank)]
    return pairs[2:] if first else pairs[1:-1]


def geometry(ctx: OpContext, x_last: np.ndarray, window: list[int], first: bool) -> Geometry:
    rank = x_last.ndim
    strides = spatial_attr(ctx.attr("strides"), rank, first, "strides")
    dilations = spatial_attr(ctx.attr("dilations"), rank, first, "dilations")
    return Geometry(
        list(x_last.shape[1:-1]),
        window,
        strides,
        dilations,
        str(ctx.attr("padding", "VALID")),
        explicit_pads(ctx, rank, first),
    )


def accumulate_dtype(x: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if x.dtype.kind == "f" and x.dtype.itemsize < 4 or x.dtype.kind == "V" else x.dtype
