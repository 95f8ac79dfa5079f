"""ParseExample / ParseExampleV2: decode serialized tf.Example protos.

Serving's classify/regress signatures feed tf.Example strings through these.
Dense and sparse features are supported (ragged ones too, for V2). The proto
is read with the tiny wire reader in ``_wire``: Example{features=1},
Features{map feature=1}, Feature{bytes_list=1 | float_list=2 | int64_list=3}.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _wire
from ._util import KernelError, OpContext, as_strings, op, string_array

_KIND_DTYPE = {1: np.dtype(object), 2: np.dtype(np.float32), 3: np.dtype(np.int64)}
_DTYPE_NAME = {"object": "string", "float32": "float", "int64": "int64"}


def parse_example(data: bytes) -> dict[bytes, tuple[int, list[Any]]]:
    """feature name -> (kind, values) for one serialized Example."""
    out: dict[bytes, tuple[int, list[Any]]] = {}
    for features in _wire.messages(data, 1):
        for entry in _wire.messages(features, 1):
            keys, bodies = _wire.messages(entry, 1), _wire.messages(entry, 2)
            key, feature = (keys[-1] if keys else b""), (bodies[-1] if bodies else b"")
            kind, values = 0, []
            for knum, body in ((n, b) for n in (1, 2, 3) for b in _wire.messages(feature, n)):
                kind = knum
                if knum == 1:
                    values = _wire.messages(body, 1)
                elif knum == 2:
                    values = _wire.repeated_floats(body, 1)
                else:
                    values = _wire.repeated_ints(body, 1)
            out[key] = (kind, values)  # a later entry for the same key wins, as in proto maps
    return out


def _typed(name: bytes, kind: int, values: list[Any], dtype: np.dtype) -> np.ndarray:
    if _KIND_DTYPE.get(kind) != dtype:
        got = {1: "bytes_list", 2: "float_list", 3: "int64_list"}.get(kind, "nothing")
        raise KernelError(
            f"Feature: {name.decode('utf-8', 'replace')} (data type: {_DTYPE_NAME.get(dtype.name, dtype.name)})"
            f" has {got}, which does not match the expected type"
        )
    return string_array(values) if dtype == np.dtype(object) else np.asarray(values, dtype=dtype).reshape(-1)


def _parse_all(
    ctx: OpContext,
    serialized: np.ndarray,
    sparse: list[tuple[bytes, np.dtype]],
    dense: list[tuple[bytes, np.dtype, tuple[int | None, ...], np.ndarray]],
    ragged: list[tuple[bytes, np.dtype, np.dtype]],
) -> tuple[np.ndarray, ...]:
    records = as_strings(serialized)
    scalar = records.ndim == 0
    flat = records.reshape(-1)
    parsed = [parse_example(r) for r in flat]
    batch = len(parsed)

    sparse_out: list[list[np.ndarray]] = [[], [], []]
    for name, dtype in sparse:
        rows = []
        for ex in parsed:
            kind, values = ex.get(name, (0, []))
            rows.append(_typed(name, kind, values, dtype) if kind else _empty(dtype))
        width = max((len(r) for r in rows), default=0)
        idx = [(b, j) for b, r in enumerate(rows) for j in range(len(r))]
        indices = np.asarray(idx, dtype=np.int64).reshape(-1, 2)
        values = np.concatenate(rows) if rows else _empty(dtype)
        shape = np.asarray([batch, width], dtype=np.int64)
        if scalar:
            indices, shape = indices[:, 1:], shape[1:]
        sparse_out[0].append(indices)
        sparse_out[1].append(values.astype(dtype) if dtype != np.dtype(object) else values)
        sparse_out[2].append(shape)

    dense_out = []
    for name, dtype, shape, default in dense:
        if any(d is None or d < 0 for d in shape):
            raise KernelError(f"dense feature {name!r}: variable-length dense shapes are not supported")
        size = math.prod(d for d in shape if d is not None)
        ctx.check_size(size * batch)
        rows = []
        for ex in parsed:
            kind, values = ex.get(name, (0, []))
            if not kind:
                if default.size == 0:
                    raise KernelError(
                        f"Feature: {name.decode('utf-8', 'replace')} (data type: "
                        f"{_DTYPE_NAME.get(dtype.name, dtype.name)}) is required but could not be found."
                    )
                rows.append(np.broadcast_to(np.asarray(default, dtype=dtype), shape))
                continue
            arr = _typed(name, kind, values, dtype)
            if arr.size != size:
                raise KernelError(
                    f"Name: <unknown>, Key: {name.decode('utf-8', 'replace')}, Index: 0.  Number of "
                    f"{'float' if dtype == np.float32 else 'int64' if dtype == np.int64 else 'bytes'} values != "
                    f"expected.  Values size: {arr.size} but output shape: {list(shape)}"
                )
            rows.append(arr.reshape(shape))
        stacked = np.stack(rows) if rows else np.zeros((0, *(d or 0 for d in shape)), dtype=dtype)
        dense_out.append(stacked[0] if scalar else stacked)

    ragged_values, ragged_splits = [], []
    for name, dtype, split_dtype in ragged:
        rows, splits = [], [0]
        for ex in parsed:
            kind, values = ex.get(name, (0, []))
            row = _typed(name, kind, values, dtype) if kind else _empty(dtype)
            rows.append(row)
            splits.append(splits[-1] + len(row))
        ragged_values.append(np.concatenate(rows) if rows else _empty(dtype))
        ragged_splits.append(np.asarray(splits, dtype=split_dtype))
    return (*sparse_out[0], *sparse_out[1], *sparse_out[2], *dense_out, *ragged_values, *ragged_splits)


def _empty(dtype: np.dtype) -> np.ndarray:
    return string_array([]) if dtype == np.dtype(object) else np.zeros(0, dtype=dtype)


def _key(value: Any) -> bytes:
    return bytes(as_strings(value).reshape(-1)[0])


def _dense_specs(ctx: OpContext, keys: list[bytes], defaults: tuple[np.ndarray, ...]) -> list[Any]:
    types = [np.dtype(t) for t in ctx.attr("Tdense", []) or []]
    shapes = [tuple(s) if s is not None else () for s in ctx.attr("dense_shapes", []) or []]
    if not len(keys) == len(types) == len(shapes) == len(defaults):
        raise KernelError("dense_keys, Tdense, dense_shapes and dense_defaults must have the same length")
    return [(k, t, s, np.asarray(d)) for k, t, s, d in zip(keys, types, shapes, defaults)]


@op("ParseExample")
def parse_example_v1(
    ctx: OpContext, serialized: np.ndarray, names: np.ndarray, *rest: np.ndarray
) -> tuple[np.ndarray, ...]:
    n_sparse, n_dense = int(ctx.attr("Nsparse", 0)), int(ctx.attr("Ndense", 0))
    if len(rest) != n_sparse + 2 * n_dense:
        raise KernelError(f"ParseExample expected {n_sparse + 2 * n_dense} key/default inputs, got {len(rest)}")
    sparse_keys = [_key(k) for k in rest[:n_sparse]]
    dense_keys = [_key(k) for k in rest[n_sparse : n_sparse + n_dense]]
    sparse_types = [np.dtype(t) for t in ctx.attr("sparse_types", []) or []]
    if np.asarray(serialized).ndim != 1:
        raise KernelError("ParseExample expects a vector of serialized Examples")
    sparse = list(zip(sparse_keys, sparse_types))
    dense = _dense_specs(ctx, dense_keys, rest[n_sparse + n_dense :])
    return _parse_all(ctx, serialized, sparse, dense, [])


@op("ParseExampleV2")
def parse_example_v2(
    ctx: OpContext,
    serialized: np.ndarray,
    names: np.ndarray,
    sparse_keys: np.ndarray,
    dense_keys: np.ndarray,
    ragged_keys: np.ndarray,
    *dense_defaults: np.ndarray,
) -> tuple[np.ndarray, ...]:
    if np.asarray(serialized).ndim > 1:
        raise KernelError("ParseExampleV2 expects a scalar or vector of serialized Examples")
    sparse = list(zip(as_strings(sparse_keys).reshape(-1), (np.dtype(t) for t in ctx.attr("sparse_types", []) or [])))
    dense = _dense_specs(ctx, list(as_strings(dense_keys).reshape(-1)), dense_defaults)
    ragged = list(
        zip(
            as_strings(ragged_keys).reshape(-1),
            (np.dtype(t) for t in ctx.attr("ragged_value_types", []) or []),
            (np.dtype(t) for t in ctx.attr("ragged_split_types", []) or []),
        )
    )
    return _parse_all(ctx, serialized, sparse, dense, ragged)
