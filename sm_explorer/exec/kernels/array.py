"""Shape and structure ops: reshape, concat, split, transpose, identities, select.

These never grow the data, so they need no size check (except where an
output shape comes from input values, noted per kernel).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._util import (
    KernelError,
    OpContext,
    broadcast_shape,
    ints,
    norm_axis,
    op,
    scalar_int,
    shape_array,
)


@op("Const")
def const(ctx: OpContext) -> np.ndarray:
    value = ctx.attr("value")
    if value is None:
        raise KernelError("Const node has no value")
    value = np.asarray(value)
    dtype = ctx.attr("dtype")
    if dtype is not None and value.dtype != np.dtype(dtype) and value.dtype != object:
        value = value.astype(dtype)
    return value


@op(
    "Identity",
    "Snapshot",
    "StopGradient",
    "PreventGradient",
    "PlaceholderWithDefault",
    "DeepCopy",
    "CopyHost",
    "Copy",
    "DebugIdentity",
    "GuaranteeConst",
)
def identity(ctx: OpContext, x: Any) -> Any:
    """Pass-through ops (gradient markers, copies): the value, or resource handle, unchanged."""
    return x


@op("IdentityN")
def identity_n(ctx: OpContext, *xs: Any) -> tuple[Any, ...]:
    return tuple(xs)


@op("NoOp", "ControlTrigger")
def no_op(ctx: OpContext, *inputs: Any) -> tuple[()]:
    return ()


@op("Assert")
def assert_(ctx: OpContext, condition: np.ndarray, *data: np.ndarray) -> tuple[()]:
    """Fail with TF's message layout when the condition is false."""
    cond = np.asarray(condition)
    if cond.size != 1:
        raise KernelError(f"Assert condition must be a scalar, got shape {list(cond.shape)}")
    if not bool(cond.reshape(-1)[0]):
        summarize = int(ctx.attr("summarize", 3))
        parts = []
        for d in data:
            flat = np.asarray(d).reshape(-1)[:summarize]
            items = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in flat]
            parts.append("[" + (" ".join(items) if np.asarray(d).ndim else items[0] if items else "") + "]")
        raise KernelError("assertion failed: " + " ".join(parts))
    return ()


@op("CheckNumerics", "CheckNumericsV2")
def check_numerics(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    message = ctx.attr("message", "")
    if np.any(np.isnan(x)):
        raise KernelError(f"{message} : Tensor had NaN values")
    if np.any(np.isinf(x)):
        raise KernelError(f"{message} : Tensor had Inf values")
    return x


@op("EnsureShape")
def ensure_shape(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    want = ctx.attr("shape")
    if want is not None and (
        len(want) != x.ndim or any(w is not None and w >= 0 and w != d for w, d in zip(want, x.shape))
    ):
        shown = [-1 if w is None else w for w in want]
        raise KernelError(f"Shape of tensor input {list(x.shape)} is not compatible with expected shape {shown}.")
    return x


@op("Shape")
def shape(ctx: OpContext, x: Any) -> np.ndarray:
    return shape_array(np.shape(x), ctx.attr("out_type", np.int32))


@op("ShapeN")
def shape_n(ctx: OpContext, *xs: Any) -> tuple[np.ndarray, ...]:
    dtype = ctx.attr("out_type", np.int32)
    return tuple(shape_array(np.shape(x), dtype) for x in xs)


@op("Size")
def size(ctx: OpContext, x: Any) -> np.ndarray:
    return np.asarray(np.size(x), dtype=ctx.attr("out_type", np.int32))


@op("Rank")
def rank(ctx: OpContext, x: Any) -> np.ndarray:
    return np.asarray(np.ndim(x), dtype=np.int32)


def reshape_target(dims: list[int], in_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Resolve a Reshape ``shape`` vector with at most one -1, as TF does
    (zero-sized dims are left out of the inference when the target has one)."""
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1:
        raise KernelError(f"Only one input size may be -1, not both {unknown[0]} and {unknown[1]}")
    if any(d < -1 for d in dims):
        raise KernelError(f"Size {min(dims)} must be non-negative, not {min(dims)}")
    in_size = int(np.prod(in_shape, dtype=np.int64))
    out = list(dims)
    if unknown:
        has_zero = 0 in dims
        product = int(np.prod([d for d in dims if d > 0], dtype=np.int64))
        known_in = int(np.prod([d for d in in_shape if not (has_zero and d == 0)], dtype=np.int64))
        if product == 0 or known_in % product:
            raise KernelError(
                f"Input to reshape is a tensor with {in_size} values, but the requested shape "
                f"requires a multiple of {product}"
            )
        out[unknown[0]] = known_in // product
    if int(np.prod(out, dtype=np.int64)) != in_size:
        raise KernelError(
            f"Input to reshape is a tensor with {in_size} values, but the requested shape has "
            f"{int(np.prod(out, dtype=np.int64))}"
        )
    return tuple(out)


@op("Reshape")
def reshape(ctx: OpContext, x: np.ndarray, new_shape: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.reshape(reshape_target(ints(new_shape), x.shape))


@op("ExpandDims")
def expand_dims(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    ax = norm_axis(scalar_int(axis, "dim"), x.ndim + 1, "dim")
    return np.expand_dims(x, ax)


@op("Squeeze")
def squeeze(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    dims = [norm_axis(int(d), x.ndim, "squeeze dim") for d in ctx.attr("squeeze_dims", []) or []]
    for d in dims:
        if x.shape[d] != 1:
            raise KernelError(f"Can not squeeze dim[{d}], expected a dimension of 1, got {x.shape[d]}")
    return np.squeeze(x, axis=tuple(dims)) if dims else np.squeeze(x)


def _concat(values: list[np.ndarray], axis: int) -> np.ndarray:
    values = [np.asarray(v) for v in values]
    if not values:
        raise KernelError("Concat needs at least one input")
    rank = values[0].ndim
    if rank == 0:
        raise KernelError("Can't concatenate scalars (use tf.stack instead)")
    ax = norm_axis(axis, rank, "concat axis")
    for v in values[1:]:
        if v.ndim != rank or v.shape[:ax] + v.shape[ax + 1 :] != values[0].shape[:ax] + values[0].shape[ax + 1 :]:
            raise KernelError(
                f"ConcatOp: dimensions of inputs should match: shape[0] = {list(values[0].shape)} "
                f"vs. shape[i] = {list(v.shape)}"
            )
    return np.concatenate(values, axis=ax)


@op("ConcatV2")
def concat_v2(ctx: OpContext, *inputs: np.ndarray) -> np.ndarray:
    return _concat(list(inputs[:-1]), scalar_int(inputs[-1], "axis"))


@op("Concat")
def concat(ctx: OpContext, axis: np.ndarray, *values: np.ndarray) -> np.ndarray:
    return _concat(list(values), scalar_int(axis, "concat_dim"))


@op("ConcatOffset")
def concat_offset(ctx: OpContext, axis: np.ndarray, *shapes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Offsets of each input in a concatenation (used by gradients)."""
    first = np.asarray(shapes[0])
    ax = norm_axis(scalar_int(axis, "concat_dim"), first.size, "concat_dim")
    offsets, running = [], 0
    for s in shapes:
        off = np.zeros_like(np.asarray(s))
        off[ax] = running
        running += int(np.asarray(s)[ax])
        offsets.append(off)
    return tuple(offsets)


@op("Pack")
def pack(ctx: OpContext, *values: np.ndarray) -> np.ndarray:
    values_ = [np.asarray(v) for v in values]
    ax = norm_axis(int(ctx.attr("axis", 0)), values_[0].ndim + 1)
    for v in values_[1:]:
        if v.shape != values_[0].shape:
            raise KernelError(
                f"Shapes of all inputs must match: values[0].shape = {list(values_[0].shape)} "
                f"!= values[i].shape = {list(v.shape)}"
            )
    return np.stack(values_, axis=ax)


@op("Unpack")
def unpack(ctx: OpContext, x: np.ndarray) -> tuple[np.ndarray, ...]:
    x = np.asarray(x)
    ax = norm_axis(int(ctx.attr("axis", 0)), x.ndim)
    num = ctx.attr("num", x.shape[ax])
    if x.shape[ax] != num:
        raise KernelError(f"Input shape axis {ax} must equal {num}, got shape {list(x.shape)}")
    return tuple(np.take(x, i, axis=ax) for i in range(num))


@op("Split")
def split(ctx: OpContext, axis: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    x = np.asarray(x)
    ax = norm_axis(scalar_int(axis, "split_dim"), x.ndim, "split_dim")
    num = int(ctx.attr("num_split", ctx.num_outputs))
    if num <= 0 or x.shape[ax] % num:
        raise KernelError(
            f"Number of ways to split should evenly divide the split dimension, but got "
            f"split_dim {ax} (size = {x.shape[ax]}) and num_split {num}"
        )
    return tuple(np.split(x, num, axis=ax))


@op("SplitV")
def split_v(ctx: OpContext, x: np.ndarray, size_splits: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, ...]:
    x = np.asarray(x)
    ax = norm_axis(scalar_int(axis, "split_dim"), x.ndim, "split_dim")
    sizes = ints(size_splits)
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in sizes):
        raise KernelError(f"invalid size_splits {sizes}")
    known = sum(s for s in sizes if s >= 0)
    if unknown:
        sizes[unknown[0]] = x.shape[ax] - known
    if sum(sizes) != x.shape[ax] or min(sizes, default=0) < 0:
        raise KernelError(f"size_splits {ints(size_splits)} do not add up to dimension {x.shape[ax]}")
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=ax))


def _perm(perm: np.ndarray, rank: int) -> list[int]:
    p = ints(perm)
    if sorted(norm_axis(a, rank, "perm entry") for a in p) != list(range(rank)) or len(p) != rank:
        raise KernelError(f"transpose expects a permutation of 0..{rank - 1}, got {p}")
    return [norm_axis(a, rank) for a in p]


@op("Transpose")
def transpose(ctx: OpContext, x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return np.asarray(np.transpose(x, _perm(perm, x.ndim)), order="C")


@op("ConjugateTranspose")
def conjugate_transpose(ctx: OpContext, x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return np.asarray(np.conj(np.transpose(x, _perm(perm, x.ndim))), order="C")


@op("InvertPermutation")
def invert_permutation(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    p = _perm(x, x.size)
    out = np.empty(len(p), dtype=x.dtype)
    out[p] = np.arange(len(p))
    return out


@op("Reverse")
def reverse(ctx: OpContext, x: np.ndarray, dims: np.ndarray) -> np.ndarray:
    x, dims = np.asarray(x), np.asarray(dims).reshape(-1)
    if dims.size != x.ndim:
        raise KernelError(f"'dims' must have rank {x.ndim}, got {dims.size} entries")
    axes = tuple(i for i, flag in enumerate(dims) if flag)
    return np.asarray(np.flip(x, axes), order="C") if axes else x


@op("ReverseV2")
def reverse_v2(ctx: OpContext, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    axes = [norm_axis(a, x.ndim) for a in ints(axis)]
    if len(set(axes)) != len(axes):
        raise KernelError(f"axis {ints(axis)} specified more than once")
    return np.asarray(np.flip(x, tuple(axes)), order="C") if axes else x


@op("Where")
def where(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    """Coordinates of true (non-zero) elements, row-major, as int64."""
    return np.argwhere(np.asarray(x)).astype(np.int64)


@op("Select")
def select(ctx: OpContext, cond: np.ndarray, t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Select v1: a vector condition picks whole rows; otherwise shapes must match."""
    cond, t, e = np.asarray(cond, dtype=bool), np.asarray(t), np.asarray(e)
    if t.shape != e.shape:
        raise KernelError(f"'then' and 'else' must have the same size, got {list(t.shape)} and {list(e.shape)}")
    if cond.ndim == 1 and t.ndim > 1:
        if cond.shape[0] != t.shape[0]:
            raise KernelError("a vector condition must match the first dimension of 'then'")
        cond = cond.reshape(cond.shape + (1,) * (t.ndim - 1))
    elif cond.ndim and cond.shape != t.shape:
        raise KernelError(f"'condition' shape {list(cond.shape)} must match 'then' shape {list(t.shape)}")
    return np.asarray(np.where(cond, t, e), dtype=t.dtype)


@op("SelectV2")
def select_v2(ctx: OpContext, cond: np.ndarray, t: np.ndarray, e: np.ndarray) -> np.ndarray:
    cond, t, e = np.asarray(cond, dtype=bool), np.asarray(t), np.asarray(e)
    broadcast_shape(cond.shape, t.shape, e.shape)
    return np.asarray(np.where(cond, t, e), dtype=t.dtype)


@op("BroadcastArgs")
def broadcast_args(ctx: OpContext, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    s0 = np.asarray(s0)
    return np.asarray(broadcast_shape(tuple(ints(s0)), tuple(ints(s1))), dtype=s0.dtype).reshape(-1)


@op("BroadcastGradientArgs")
def broadcast_gradient_args(ctx: OpContext, s0: np.ndarray, s1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axes each side must sum over to undo a broadcast (both when both are 1)."""
    a, b = ints(s0), ints(s1)
    dtype = np.asarray(s0).dtype
    broadcast_shape(tuple(a), tuple(b))
    if a == b:
        return np.zeros(0, dtype), np.zeros(0, dtype)
    n = max(len(a), len(b))
    pa, pb = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    r0 = [i for i in range(n) if pa[i] == 1]
    r1 = [i for i in range(n) if pb[i] == 1]
    return np.asarray(r0, dtype), np.asarray(r1, dtype)
