"""DynamicPartition, SpaceToBatchND and BatchToSpaceND against tf.raw_ops."""

from __future__ import annotations

import numpy as np
import pytest

from tests.exec.conftest import assert_same, run_ours


@pytest.mark.parametrize("count", [1, 3])
def test_dynamic_partition(tf, count):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(6, 2)).astype(np.float32)
    parts = rng.integers(0, count, size=6).astype(np.int32)
    theirs = tf.raw_ops.DynamicPartition(data=data, partitions=parts, num_partitions=count)
    ours = run_ours("DynamicPartition", [data, parts], {"num_partitions": count}, num_outputs=count)
    assert_same(ours, tuple(t.numpy() for t in theirs))


@pytest.mark.parametrize("shape,block,pads", [
    ((2, 6, 3), [2], [[0, 0]]),
    ((1, 5, 3), [2], [[1, 0]]),
    ((2, 4, 6, 3), [2, 3], [[0, 0], [0, 0]]),
    ((1, 3, 5, 1), [2, 2], [[1, 0], [0, 1]]),
])
def test_space_to_batch_and_back(tf, shape, block, pads):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    block_a, pads_a = np.array(block, np.int32), np.array(pads, np.int32)
    theirs = tf.raw_ops.SpaceToBatchND(input=x, block_shape=block_a, paddings=pads_a).numpy()
    ours = run_ours("SpaceToBatchND", [x, block_a, pads_a], {})
    assert_same(ours, theirs)
    back_theirs = tf.raw_ops.BatchToSpaceND(input=theirs, block_shape=block_a, crops=pads_a).numpy()
    back_ours = run_ours("BatchToSpaceND", [ours, block_a, pads_a], {})
    assert_same(back_ours, back_theirs)
    np.testing.assert_array_equal(back_ours, x)
