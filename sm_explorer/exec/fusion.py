"""Fusing elementwise tails into the op that produces their input.

Keras exports batch norm and activations as separate ``Mul``/``AddV2``/``Relu6``
nodes after every convolution. Run one by one, each is a pass over a large
activation in memory. Fused, the tail runs on each block of the producer's
output while the block is still in cache (inside the producer's own block loop
where the kernel supports it). The tail ops are elementwise and run the same
NumPy functions on the same values in the same order, so the numbers are
exactly those of the unfused run.

A tail is fused only where nothing else can see its intermediates: each link
has exactly one consumer, no control edges, is neither fed nor fetched, and
its other operand is a per-channel vector, a scalar or a same-shaped tensor.
Anything else runs unfused.

One step is not bit-exact: a per-channel ``Mul`` right after a convolution or
matmul (batch norm's scale) is folded into the filter when the filter is small
next to the data, as graph optimizers do: (x . w) * s becomes x . (w * s), which
saves a pass over the output and differs from unfused only by rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sm_explorer.exec.body import Body, Ref
from sm_explorer.exec.kernels.nn import relu, relu6
from sm_explorer.exec.parallel import split

__all__ = [
    "Tail", "Epilogue", "plan_tails", "fold_scale", "PRODUCERS", "TAIL_OPS",
    "PaddedInput", "plan_pads", "lazy_pad", "unpad",
]  # fmt: skip

_BLOCK = 1 << 16  # elements per block: small enough to stay in L2 between the tail's ops
_WIDE = 4096  # elements per row that a tail's per-channel operands are tiled to
PRODUCERS = frozenset({"Conv2D", "Conv3D", "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2", "BiasAdd"})


# The tail ops and the ufuncs their kernels apply (binary), or the kernels' own functions (unary).
_BINARY: dict[str, np.ufunc] = {
    "Mul": np.multiply,
    "Add": np.add,
    "AddV2": np.add,
    "Sub": np.subtract,
    "BiasAdd": np.add,
    "Maximum": np.maximum,
    "Minimum": np.minimum,
}
_UNARY: dict[str, Callable[..., np.ndarray]] = {"Relu": relu, "Relu6": relu6}
TAIL_OPS = frozenset(_BINARY) | frozenset(_UNARY)
_FOLDABLE = frozenset({"Conv2D", "DepthwiseConv2dNative", "MatMul"})


@dataclass
class Tail:
    """The nodes fused after ``producer``, in order."""

    producer: str
    nodes: list[str]
    positions: list[int]  # which input of each node is the running value
    sides: list[Ref | None]  # the other operand of each binary node

    def after(self, count: int) -> Tail:
        """The same tail without its first ``count`` nodes."""
        return Tail(self.producer, self.nodes[count:], self.positions[count:], self.sides[count:])


def _channels_last(body: Body, node: Any) -> bool:
    return str(body.attrs(node).get("data_format", "NHWC")).endswith("C")


def plan_tails(body: Body, needed: set[str], feeds: dict[Ref, Any], pinned: set[str]) -> dict[str, Tail]:
    """The fusable tails of this run, keyed by producer node."""
    users = body.users()
    fed = {ref[0] for ref in feeds}
    tails: dict[str, Tail] = {}
    claimed: set[str] = set()  # a node belongs to one tail at most
    for name in sorted(needed):
        node = body.nodes[name]
        if node.op not in PRODUCERS or name in pinned or name in fed:
            continue
        if node.op == "BiasAdd" and not _channels_last(body, node):
            continue
        tail = Tail(name, [], [], [])
        current = name
        while True:
            following = users.get(current, [])
            if len(following) != 1 or current in pinned:
                break
            nxt = following[0]
            op, refs = body.nodes[nxt].op, body.inputs[nxt]
            if nxt not in needed or nxt in fed or op not in TAIL_OPS or body.controls[nxt] or nxt in claimed:
                break
            if op == "BiasAdd" and not _channels_last(body, body.nodes[nxt]):
                break
            arity = 2 if op in _BINARY else 1
            if len(refs) != arity or refs.count(Ref(current, 0)) != 1:
                break
            position = refs.index(Ref(current, 0))
            if op == "BiasAdd" and position != 0:
                break
            tail.nodes.append(nxt)
            tail.positions.append(position)
            tail.sides.append(refs[1 - position] if arity == 2 else None)
            current = nxt
        if tail.nodes:
            tails[name] = tail
            claimed.update(tail.nodes)
    for name in list(tails):  # a tail ending in another tail's producer (Conv2D > BiasAdd > ...) takes it over
        tail = tails.get(name)
        while tail is not None and tail.nodes[-1] in tails:
            rest = tails.pop(tail.nodes[-1])
            tail.nodes += rest.nodes
            tail.positions += rest.positions
            tail.sides += rest.sides
    return tails


def fold_scale(
    op: str, attrs: dict[str, Any], inputs: list[Any], ops: Sequence[str], sides: Sequence[Any]
) -> list[Any]:
    """The producer's inputs with a leading per-channel ``Mul`` folded into its filter, or
    ``inputs`` unchanged when that is not possible (the caller compares identities)."""
    if op not in _FOLDABLE or not ops or ops[0] != "Mul" or len(inputs) != 2:
        return inputs
    x, w, scale = inputs[0], inputs[1], sides[0]
    if not all(isinstance(a, np.ndarray) for a in (x, w, scale)) or w.ndim not in (2, 4):
        return inputs
    if w.dtype not in (np.float32, np.float64) or not x.dtype == w.dtype == scale.dtype:
        return inputs
    if w.size * 4 > x.size or scale.ndim > w.ndim or any(d != 1 for d in scale.shape[:-1]):
        return inputs  # folding costs a pass over the filter: only worth it when that is small
    if str(attrs.get("data_format", "NHWC")).startswith("NC") or attrs.get("transpose_b"):
        return inputs
    channels = w.shape[-2:] if op == "DepthwiseConv2dNative" else w.shape[-1:]
    if scale.size == 1:
        return [x, w * scale.reshape(())]
    if scale.size != int(np.prod(channels)):
        return inputs
    return [x, w * scale.reshape(channels)]


class Epilogue:
    """A bound tail, applied in place to blocks of rows of the producer's output.

    Per-channel operands are tiled so that several pixels form one wide row: a
    NumPy loop over a 24-channel row spends its time starting the loop, not in it.
    """

    def __init__(self, tail: Tail, ops: Sequence[str], sides: Sequence[Any]) -> None:
        self.tail = tail
        self.ops = list(ops)
        self.raw_sides = list(sides)
        self.sides: list[tuple[str, np.ndarray, np.ndarray] | None] = []
        self.group = 1  # pixels per wide row
        self.applied = False

    def bind(self, shape: Sequence[int], dtype: np.dtype) -> bool:
        """Check the tail fits an output of this shape and dtype; if so, the caller must
        call ``apply`` on every block of it."""
        if self.applied or np.dtype(dtype).kind != "f" or len(shape) < 1 or 0 in shape:
            return False
        channels = shape[-1]
        self.group = max(1, _WIDE // channels)
        self.sides = []
        for op, side in zip(self.ops, self.raw_sides):
            if side is None:
                self.sides.append(None)
                continue
            if not isinstance(side, np.ndarray) or side.dtype != dtype or side.ndim > len(shape):
                return False
            if tuple(side.shape) == tuple(shape) and op != "BiasAdd":
                flat = side.reshape(-1, channels)
                self.sides.append(("rows", flat, flat))
            elif all(d == 1 for d in side.shape[:-1]) and (side.ndim == 0 or side.shape[-1] in (1, channels)):
                if op == "BiasAdd" and (side.ndim != 1 or side.shape[0] != channels or len(shape) < 2):
                    return False
                vector = side.reshape(side.shape[-1:])
                wide = np.tile(vector, self.group) if vector.shape == (channels,) else vector
                self.sides.append(("all", vector, wide))
            else:
                return False
        self.applied = True
        return True

    def apply(self, block: np.ndarray, rows: slice) -> None:
        """Run the tail on ``block`` (rows ``rows`` of the output as [rows, channels]), in place."""
        count, first = block.shape[0], rows.start or 0
        main = count - count % self.group if block.flags.c_contiguous else 0
        if main:  # contiguous rows reshape to wide rows without a copy
            self._run(block[:main].reshape(main // self.group, -1), first, main, True)
        if main < count:
            self._run(block[main:], first + main, count - main, False)

    def _run(self, view: np.ndarray, first: int, count: int, wide: bool) -> None:
        for op, position, side in zip(self.ops, self.tail.positions, self.sides):
            if side is None:
                _UNARY[op](view, out=view)
                continue
            kind, vector, tiled = side
            if kind == "rows":
                operand = vector[first : first + count].reshape(view.shape)
            else:
                operand = tiled if wide else vector
            if position == 0:
                _BINARY[op](view, operand, out=view)
            else:
                _BINARY[op](operand, view, out=view)

    def apply_all(self, out: np.ndarray) -> None:
        """Run the tail over a whole output, a cache-sized block at a time."""
        flat = out.reshape(-1, out.shape[-1])
        step = max(1, _BLOCK // max(flat.shape[1], 1))

        def run(spans: Sequence[slice]) -> None:
            for rows in spans:
                self.apply(flat[rows], rows)

        split(run, [slice(i, min(i + step, flat.shape[0])) for i in range(0, flat.shape[0], step)])


# ---- a Pad left to the convolution after it ----


@dataclass(frozen=True)
class PaddedInput:
    """A ``Pad`` left undone: the VALID convolution that is its only consumer pads
    implicitly instead (depthwise without copying the input at all)."""

    value: np.ndarray
    spatial: tuple[tuple[int, int], tuple[int, int]]  # (before, after) for height and width


def plan_pads(body: Body, needed: set[str], feeds: dict[Ref, Any], pinned: set[str]) -> set[str]:
    """The Pad nodes whose only consumer is a VALID NHWC convolution reading them as its input."""
    users = body.users()
    fed = {ref[0] for ref in feeds}
    pads = set()
    for name in needed:
        following = users.get(name, [])
        if body.nodes[name].op != "Pad" or name in pinned or name in fed or len(following) != 1:
            continue
        consumer = body.nodes[following[0]]
        refs = body.inputs[consumer.name]
        if consumer.name not in needed or consumer.op not in ("Conv2D", "DepthwiseConv2dNative") or not refs:
            continue
        attrs = body.attrs(consumer)
        valid = str(attrs.get("padding")) == "VALID" and str(attrs.get("data_format", "NHWC")) == "NHWC"
        if refs[0] == Ref(name, 0) and valid:
            pads.add(name)
    return pads


def lazy_pad(value: Any, paddings: Any) -> PaddedInput | None:
    """``value`` padded lazily, if it is NHWC and only its height and width are padded."""
    pads = np.asarray(paddings)
    if not isinstance(value, np.ndarray) or value.ndim != 4 or pads.shape != (4, 2) or pads.dtype.kind not in "iu":
        return None
    if (pads < 0).any() or pads[0].any() or pads[3].any():
        return None
    (top, bottom), (left, right) = pads[1].tolist(), pads[2].tolist()
    return PaddedInput(value, ((top, bottom), (left, right)))


def unpad(inputs: list[Any], attrs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """A convolution's inputs and attrs with a ``PaddedInput`` turned into explicit padding."""
    if not inputs or not isinstance(inputs[0], PaddedInput):
        return inputs, attrs
    lazy = inputs[0]
    (top, bottom), (left, right) = lazy.spatial
    explicit = [0, 0, top, bottom, left, right, 0, 0]
    return [lazy.value, *inputs[1:]], {**attrs, "padding": "EXPLICIT", "explicit_paddings": explicit}
