"""XLA ops that jax2tf emits (XlaDotV2, XlaGather, XlaScatter, XlaReduceWindow, ...).

Dimension numbers arrive as serialized XLA protos in string attrs and are read
with ``_wire``. Ops that take a combiner function (scatter, reduce-window,
reduce) need the interpreter to run it: the kernel calls
``ctx.call_function(name, [a, b])`` when the context provides it. The combiner
is first probed on a few scalars; add/multiply/max/min/replace are then done
with NumPy directly, anything else by calling the function elementwise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _wire
from ._util import KernelError, OpContext, attr_bytes, ints, op

Combiner = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _dims(ctx: OpContext, key: str, fields: dict[str, int]) -> dict[str, Any]:
    raw = attr_bytes(ctx.attr(key, b""))
    out: dict[str, Any] = {
        name: _wire.repeated_ints(raw, num) for name, num in fields.items() if name != "index_vector_dim"
    }
    if "index_vector_dim" in fields:
        out["index_vector_dim"] = _wire.single_int(raw, fields["index_vector_dim"])
    return out


def _check_axes(axes: list[int], rank: int, what: str) -> None:
    if any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
        raise KernelError(f"{what} {axes} are not distinct axes of a rank-{rank} operand")


def _call(ctx: OpContext, name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    call = getattr(ctx, "call_function", None)
    if call is None:
        raise KernelError(f"{ctx.op} needs the interpreter to run its function {name!r}")

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        result = call(name, [a, b])
        return np.asarray(result[0] if isinstance(result, (tuple, list)) else result)

    return run


def _probe(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    if dtype == np.bool_:
        return np.array([True, True, False, False]), np.array([True, False, True, False])
    if dtype.kind == "u":
        return np.array([3, 2, 7, 0], dtype), np.array([2, 5, 1, 4], dtype)
    return np.array([3, -2, 7, 0.5]).astype(dtype), np.array([2, 5, -1, 4]).astype(dtype)


def combiner(ctx: OpContext, attr: str, dtype: np.dtype) -> tuple[str, Combiner]:
    """Identify a binary combiner function: returns (kind, vectorized callable)."""
    name = ctx.attr(attr)
    if not name:
        raise KernelError(f"{ctx.op} has no {attr} function")
    fn = _call(ctx, str(name))
    a, b = _probe(dtype)
    got = np.array([fn(np.asarray(x), np.asarray(y)).reshape(()) for x, y in zip(a, b)]).astype(dtype)
    known: dict[str, Combiner] = {
        "add": np.logical_or if dtype == np.bool_ else np.add,
        "mul": np.logical_and if dtype == np.bool_ else np.multiply,
        "max": np.maximum,
        "min": np.minimum,
        "replace": lambda x, y: np.broadcast_to(y, np.broadcast_shapes(np.shape(x), np.shape(y))),
        "keep": lambda x, y: np.broadcast_to(x, np.broadcast_shapes(np.shape(x), np.shape(y))),
    }
    for kind, candidate in known.items():
        if np.array_equal(np.asarray(candidate(a, b)).astype(dtype), got):
            return kind, candidate

    def elementwise(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xb, yb = np.broadcast_arrays(np.asarray(x, dtype), np.asarray(y, dtype))
        flat = [fn(np.asarray(p), np.asarray(q)).reshape(()) for p, q in zip(xb.reshape(-1), yb.reshape(-1))]
        return np.array(flat, dtype=dtype).reshape(xb.shape)

    return "call", elementwise


@op("XlaDot", "XlaDotV2")
def xla_dot(ctx: OpContext, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """General dot: batch dims, then lhs free dims, then rhs free dims."""
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    dn = _dims(ctx, "dimension_numbers", {"lc": 1, "rc": 2, "lb": 3, "rb": 4})
    out_dtype = np.dtype(ctx.attr("preferred_element_type", lhs.dtype))
    _check_axes(dn["lc"] + dn["lb"], lhs.ndim, "lhs dimensions")
    _check_axes(dn["rc"] + dn["rb"], rhs.ndim, "rhs dimensions")
    if [lhs.shape[d] for d in dn["lc"]] != [rhs.shape[d] for d in dn["rc"]] or [lhs.shape[d] for d in dn["lb"]] != [
        rhs.shape[d] for d in dn["rb"]
    ]:
        raise KernelError(f"XlaDot: contracting/batch dims disagree for shapes {list(lhs.shape)}, {list(rhs.shape)}")
    lfree = [d for d in range(lhs.ndim) if d not in dn["lc"] + dn["lb"]]
    rfree = [d for d in range(rhs.ndim) if d not in dn["rc"] + dn["rb"]]
    batch = [lhs.shape[d] for d in dn["lb"]]
    m, n = [lhs.shape[d] for d in lfree], [rhs.shape[d] for d in rfree]
    k = math.prod(lhs.shape[d] for d in dn["lc"])
    left = lhs.transpose(dn["lb"] + lfree + dn["lc"]).reshape(math.prod(batch), math.prod(m), k)
    right = rhs.transpose(dn["rb"] + dn["rc"] + rfree).reshape(math.prod(batch), k, math.prod(n))
    out = np.matmul(left.astype(out_dtype), right.astype(out_dtype))
    return np.asarray(out.reshape(batch + m + n), dtype=out_dtype)


def _clamped_starts(starts: list[int], sizes: list[int], shape: tuple[int, ...]) -> list[int]:
    return [min(max(s, 0), dim - size) for s, size, dim in zip(starts, sizes, shape)]


@op("XlaDynamicSlice")
def xla_dynamic_slice(ctx: OpContext, x: np.ndarray, start: np.ndarray, size: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    starts, sizes = ints(start), ints(size)
    if len(starts) != x.ndim or len(sizes) != x.ndim or any(not 0 <= s <= d for s, d in zip(sizes, x.shape)):
        raise KernelError(f"XlaDynamicSlice: bad start {starts} / size {sizes} for shape {list(x.shape)}")
    begin = _clamped_starts(starts, sizes, x.shape)
    return x[tuple(slice(b, b + s) for b, s in zip(begin, sizes))].copy()


@op("XlaDynamicUpdateSlice")
def xla_dynamic_update_slice(ctx: OpContext, x: np.ndarray, update: np.ndarray, start: np.ndarray) -> np.ndarray:
    x, update = np.array(x), np.asarray(update)
    starts = ints(start)
    if len(starts) != x.ndim or update.ndim != x.ndim or any(u > d for u, d in zip(update.shape, x.shape)):
        raise KernelError(f"XlaDynamicUpdateSlice: update {list(update.shape)} does not fit {list(x.shape)}")
    begin = _clamped_starts(starts, list(update.shape), x.shape)
    x[tuple(slice(b, b + s) for b, s in zip(begin, update.shape))] = update
    return x


@op("XlaPad")
def xla_pad(
    ctx: OpContext, x: np.ndarray, value: np.ndarray, low: np.ndarray, high: np.ndarray, interior: np.ndarray
) -> np.ndarray:
    """Interior padding first, then edge padding (negative edges crop)."""
    x = np.asarray(x)
    lo, hi, mid = ints(low), ints(high), ints(interior)
    if not len(lo) == len(hi) == len(mid) == x.ndim or any(m < 0 for m in mid):
        raise KernelError("XlaPad: paddings must have one entry per dimension, interior >= 0")
    out = _dilate(x, [m + 1 for m in mid], np.asarray(value, x.dtype), ctx)
    return _edge_pad(out, lo, hi, np.asarray(value, x.dtype), ctx)


def _dilate(x: np.ndarray, factors: list[int], fill: np.ndarray, ctx: OpContext) -> np.ndarray:
    if all(f == 1 for f in factors):
        return x
    shape = [(d - 1) * f + 1 if d else 0 for d, f in zip(x.shape, factors)]
    ctx.check_size(math.prod(shape))
    out = np.full(shape, fill, dtype=x.dtype)
    out[tuple(slice(None, None, f) for f in factors)] = x
    return out


def _edge_pad(x: np.ndarray, lo: list[int], hi: list[int], fill: np.ndarray, ctx: OpContext) -> np.ndarray:
    crop = tuple(slice(max(-a, 0), d - max(-b, 0)) for a, b, d in zip(lo, hi, x.shape))
    x = x[crop]
    widths = [(max(a, 0), max(b, 0)) for a, b in zip(lo, hi)]
    ctx.check_size(math.prod(d + a + b for d, (a, b) in zip(x.shape, widths)))
    return np.pad(x, widths, constant_values=fill) if any(a or b for a, b in widths) else x.copy()


def _index_rows(indices: np.ndarray, vector_dim: int, depth: int) -> tuple[np.ndarray, tuple[int, ...], list[int]]:
    """Index vectors as rows [nB, depth], the batch shape, and the original dim of each batch axis."""
    if vector_dim == indices.ndim:
        indices = indices[..., None]
    if not 0 <= vector_dim < indices.ndim:
        raise KernelError(f"index_vector_dim {vector_dim} out of range")
    moved = np.moveaxis(indices, vector_dim, -1)
    if moved.shape[-1] != depth:
        raise KernelError(f"index vectors have {moved.shape[-1]} entries, expected {depth}")
    batch = moved.shape[:-1]
    origin = [d for d in range(indices.ndim) if d != vector_dim]
    return moved.reshape(-1, depth).astype(np.int64), batch, origin


def _starts(
    rows: np.ndarray,
    batch: tuple[int, ...],
    origin: list[int],
    rank: int,
    index_map: list[int],
    operand_batch: list[int],
    indices_batch: list[int],
) -> np.ndarray:
    start = np.zeros((rows.shape[0], rank), dtype=np.int64)
    for k, d in enumerate(index_map):
        start[:, d] = rows[:, k]
    if operand_batch:
        coords = np.unravel_index(np.arange(rows.shape[0]), batch) if batch else ()
        for od, sd in zip(operand_batch, indices_batch):
            start[:, od] = coords[origin.index(sd)]
    return start


def _window_index(start: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, ...]:
    """Per-dimension index arrays of shape [nB, *sizes] covering each window."""
    rank = len(sizes)
    out = []
    for d, size in enumerate(sizes):
        shape = [1] * (rank + 1)
        shape[1 + d] = size
        out.append(start[:, d].reshape([-1] + [1] * rank) + np.arange(size).reshape(shape))
    return tuple(out)


@op("XlaGather")
def xla_gather(ctx: OpContext, operand: np.ndarray, indices: np.ndarray, slice_sizes: np.ndarray) -> np.ndarray:
    operand, indices = np.asarray(operand), np.asarray(indices)
    dn = _dims(
        ctx,
        "dimension_numbers",
        {
            "offset_dims": 1,
            "collapsed": 2,
            "index_map": 3,
            "index_vector_dim": 4,
            "operand_batch": 5,
            "indices_batch": 6,
        },
    )
    sizes = ints(slice_sizes)
    if len(sizes) != operand.ndim or any(not 0 <= s <= d for s, d in zip(sizes, operand.shape)):
        raise KernelError(f"XlaGather: slice_sizes {sizes} do not fit operand shape {list(operand.shape)}")
    dropped = dn["collapsed"] + dn["operand_batch"]
    if any(sizes[d] != 1 for d in dropped):
        raise KernelError("XlaGather: collapsed slice dims must have size 1")
    rows, batch, origin = _index_rows(indices, dn["index_vector_dim"], len(dn["index_map"]))
    start = _starts(rows, batch, origin, operand.ndim, dn["index_map"], dn["operand_batch"], dn["indices_batch"])
    start = np.clip(start, 0, np.asarray(operand.shape) - np.asarray(sizes))
    ctx.check_size(rows.shape[0] * math.prod(sizes))
    if operand.ndim == 0:
        picked = np.broadcast_to(operand, (rows.shape[0],))
    elif all(size == 1 for size in sizes):  # gathering single elements: plain fancy indexing
        picked = operand[tuple(start[:, d] for d in range(operand.ndim))]
    else:
        picked = operand[_window_index(start, sizes)]
    offset_sizes = [s for d, s in enumerate(sizes) if d not in dropped]
    picked = picked.reshape(batch + tuple(offset_sizes))
    out_rank = len(batch) + len(offset_sizes)
    if sorted(dn["offset_dims"]) != dn["offset_dims"] or len(dn["offset_dims"]) != len(offset_sizes):
        raise KernelError(f"XlaGather: offset_dims {dn['offset_dims']} do not match the slice")
    source, next_batch = [], 0
    for o in range(out_rank):
        if o in dn["offset_dims"]:
            source.append(len(batch) + dn["offset_dims"].index(o))
        else:
            source.append(next_batch)
            next_batch += 1
    return np.asarray(np.transpose(picked, source), order="C")


@op("XlaScatter")
def xla_scatter(ctx: OpContext, operand: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> np.ndarray:
    """Combine update windows into a copy of operand; out-of-bounds windows are skipped, as in XLA."""
    operand, indices, updates = np.asarray(operand), np.asarray(indices), np.asarray(updates)
    dn = _dims(
        ctx,
        "dimension_numbers",
        {"window": 1, "inserted": 2, "index_map": 3, "index_vector_dim": 4, "operand_batch": 5, "indices_batch": 6},
    )
    kind, fn = combiner(ctx, "update_computation", operand.dtype)
    rows, batch, origin = _index_rows(indices, dn["index_vector_dim"], len(dn["index_map"]))
    scatter_dims = [d for d in range(updates.ndim) if d not in dn["window"]]
    if tuple(updates.shape[d] for d in scatter_dims) != batch:
        raise KernelError(
            f"XlaScatter: updates shape {list(updates.shape)} does not match the indices' batch {list(batch)}"
        )
    window_operand = [d for d in range(operand.ndim) if d not in dn["inserted"] + dn["operand_batch"]]
    if len(window_operand) != len(dn["window"]):
        raise KernelError("XlaScatter: update window dims do not match the operand")
    sizes = [1] * operand.ndim
    for d, u in zip(window_operand, dn["window"]):
        sizes[d] = updates.shape[u]
    start = _starts(rows, batch, origin, operand.ndim, dn["index_map"], dn["operand_batch"], dn["indices_batch"])
    upd = np.transpose(updates, scatter_dims + dn["window"]).reshape([rows.shape[0], *sizes])
    ok = np.all((start >= 0) & (start <= np.asarray(operand.shape) - np.asarray(sizes)), axis=1)
    target = (
        np.ravel_multi_index(_window_index(start[ok], sizes), operand.shape).reshape(-1)
        if operand.ndim
        else np.zeros(int(ok.sum()), np.int64)
    )
    values = upd[ok].reshape(-1)
    out = operand.copy().reshape(-1)
    ufunc = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}.get(kind)
    if operand.dtype == np.bool_ and kind in ("add", "mul"):
        ufunc = np.logical_or if kind == "add" else np.logical_and
    if ufunc is not None:
        ufunc.at(out, target, values)
    elif kind == "replace":
        out[target] = values
    elif kind != "keep":
        order = np.argsort(target, kind="stable")
        sorted_t = target[order]
        first = np.r_[True, sorted_t[1:] != sorted_t[:-1]] if sorted_t.size else np.zeros(0, bool)
        group_start = np.maximum.accumulate(np.where(first, np.arange(sorted_t.size), 0))
        rank = np.empty_like(order)
        rank[order] = np.arange(sorted_t.size) - group_start
        for r in range(int(rank.max()) + 1 if rank.size else 0):
            sel = rank == r
            out[target[sel]] = fn(out[target[sel]], values[sel])
    return out.reshape(operand.shape)


@op("XlaReduceWindow")
def xla_reduce_window(
    ctx: OpContext,
    x: np.ndarray,
    init: np.ndarray,
    window: np.ndarray,
    strides: np.ndarray,
    base_dilations: np.ndarray,
    window_dilations: np.ndarray,
    padding: np.ndarray,
) -> np.ndarray:
    x, init = np.asarray(x), np.asarray(init, dtype=np.asarray(x).dtype)
    dims, steps, bdil, wdil = ints(window), ints(strides), ints(base_dilations), ints(window_dilations)
    pads = (
        np.asarray(padding).astype(np.int64).reshape(-1, 2)
        if np.asarray(padding).size
        else np.zeros((x.ndim, 2), np.int64)
    )
    if not len(dims) == len(steps) == len(bdil) == len(wdil) == len(pads) == x.ndim:
        raise KernelError("XlaReduceWindow: window parameters must have one entry per dimension")
    if min(dims + steps + bdil + wdil, default=1) < 1:
        raise KernelError("XlaReduceWindow: window sizes, strides and dilations must be positive")
    kind, fn = combiner(ctx, "computation", x.dtype)
    lows, highs = [int(a) for a, _ in pads], [int(b) for _, b in pads]
    full = _edge_pad(_dilate(x, bdil, init, ctx), lows, highs, init, ctx)
    # XLA skips padding and dilation holes; that only shows with a combiner that isn't a monoid.
    real = None
    if kind == "call":
        real = _edge_pad(
            _dilate(np.ones(x.shape, bool), bdil, np.asarray(False), ctx), lows, highs, np.asarray(False), ctx
        )
    out_shape = []
    for size, k, s, d in zip(full.shape, dims, steps, wdil):
        eff = (k - 1) * d + 1
        out_shape.append((size - eff) // s + 1 if size >= eff else 0)
    ctx.check_size(math.prod(out_shape))
    acc = np.full(out_shape, init, dtype=x.dtype)
    if not all(out_shape):
        return acc
    for pos in itertools.product(*(range(k) for k in dims)):
        index = tuple(slice(p * d, p * d + (o - 1) * s + 1, s) for p, d, s, o in zip(pos, wdil, steps, out_shape))
        step = np.asarray(fn(acc, full[index]), dtype=x.dtype)
        acc = step if real is None else np.where(real[index], step, acc)
    return acc


@op("XlaReduce")
def xla_reduce(ctx: OpContext, x: np.ndarray, init: np.ndarray, dims_to_reduce: Any = None) -> np.ndarray:
    x, init = np.asarray(x), np.asarray(init, dtype=np.asarray(x).dtype)
    axes = ints(dims_to_reduce) if dims_to_reduce is not None else ints(ctx.attr("dimensions_to_reduce", []))
    _check_axes(axes, x.ndim, "dimensions_to_reduce")
    kind, fn = combiner(ctx, "reducer", x.dtype)
    keep = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, keep + axes).reshape([x.shape[d] for d in keep] + [-1])
    acc = np.full(moved.shape[:-1], init, dtype=x.dtype)
    if isinstance(fn, np.ufunc):
        return np.asarray(fn(acc, fn.reduce(moved, axis=-1)) if moved.shape[-1] else acc, dtype=x.dtype)
    for i in range(moved.shape[-1]):
        acc = np.asarray(fn(acc, moved[..., i]), dtype=x.dtype)
    return acc
