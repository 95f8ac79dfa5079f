"""Ops that move data between batch and space: DynamicPartition, and
SpaceToBatchND / BatchToSpaceND (how Keras runs dilated 1-D convolutions)."""

from __future__ import annotations

import numpy as np

from ._util import KernelError, OpContext, ints, op


@op("DynamicPartition")
def dynamic_partition(ctx: OpContext, data: np.ndarray, partitions: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split ``data`` into ``num_partitions`` pieces by the partition index of each row."""
    data, partitions = np.asarray(data), np.asarray(partitions)
    count = int(ctx.attr("num_partitions", 1))
    if data.shape[: partitions.ndim] != partitions.shape:
        raise KernelError(f"partitions shape {list(partitions.shape)} must prefix data shape {list(data.shape)}")
    if partitions.size and (partitions.min() < 0 or partitions.max() >= count):
        raise KernelError(f"partition indices must be in [0, {count})")
    rows = data.reshape((-1, *data.shape[partitions.ndim:]))
    flat = partitions.reshape(-1)
    return tuple(rows[flat == i] for i in range(count))


def _paddings(value: np.ndarray, rank: int) -> list[tuple[int, int]]:
    pairs = np.asarray(value).reshape(-1, 2)
    if len(pairs) != rank or (pairs < 0).any():
        raise KernelError(f"paddings must be {rank} non-negative pairs")
    return [(int(a), int(b)) for a, b in pairs]


@op("SpaceToBatchND")
def space_to_batch(ctx: OpContext, x: np.ndarray, block_shape: np.ndarray, paddings: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    block = ints(block_shape)
    m = len(block)
    if m == 0 or any(b < 1 for b in block) or x.ndim < m + 1:
        raise KernelError(f"block_shape {block} does not fit input of rank {x.ndim}")
    pads = _paddings(paddings, m)
    padded = np.pad(x, [(0, 0), *pads, *[(0, 0)] * (x.ndim - 1 - m)])
    spatial = padded.shape[1 : m + 1]
    if any(s % b for s, b in zip(spatial, block)):
        raise KernelError(f"padded spatial shape {list(spatial)} is not divisible by block_shape {block}")
    batch, rest = padded.shape[0], padded.shape[m + 1 :]
    shape = [batch]
    for s, b in zip(spatial, block):
        shape += [s // b, b]
    y = padded.reshape(shape + list(rest))
    # [batch, s1/b1, b1, ..., rest] -> [b1, ..., bm, batch, s1/b1, ..., rest]
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(1 + 2 * m, y.ndim))
    y = y.transpose(order)
    return y.reshape([batch * int(np.prod(block)), *[s // b for s, b in zip(spatial, block)], *rest])


@op("BatchToSpaceND")
def batch_to_space(ctx: OpContext, x: np.ndarray, block_shape: np.ndarray, crops: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    block = ints(block_shape)
    m = len(block)
    total = int(np.prod(block)) if block else 1
    if m == 0 or any(b < 1 for b in block) or x.ndim < m + 1 or x.shape[0] % total:
        raise KernelError(f"block_shape {block} does not fit input of shape {list(x.shape)}")
    crop = _paddings(crops, m)
    batch = x.shape[0] // total
    spatial, rest = x.shape[1 : m + 1], x.shape[m + 1 :]
    y = x.reshape([*block, batch, *spatial, *rest])
    # [b1..bm, batch, s1..sm, rest] -> [batch, s1, b1, ..., sm, bm, rest]
    order = [m]
    for i in range(m):
        order += [m + 1 + i, i]
    order += list(range(2 * m + 1, y.ndim))
    y = y.transpose(order).reshape([batch, *[s * b for s, b in zip(spatial, block)], *rest])
    index = tuple(slice(a, y.shape[1 + i] - b) for i, (a, b) in enumerate(crop))
    return y[(slice(None), *index)]
