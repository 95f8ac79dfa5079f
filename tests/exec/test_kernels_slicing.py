"""Slicing, gather and scatter kernels against tf.raw_ops, StridedSlice masks in depth."""

from __future__ import annotations

import numpy as np
import pytest

from sm_explorer.exec.registry import KernelError

X = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)

MASK_NAMES = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def strided(check, x, begin, end, strides, **masks):
    inputs = {"input": x, "begin": np.int32(begin), "end": np.int32(end), "strides": np.int32(strides)}
    return check("StridedSlice", inputs, masks)


@pytest.mark.parametrize(
    "begin,end,strides,masks",
    [
        ([1], [3], [1], {}),
        ([-1], [0], [-1], {}),
        ([0, 1], [0, 4], [1, 2], {"begin_mask": 1, "end_mask": 1}),
        ([1, 0, 0], [2, 0, 0], [1, 1, 1], {"shrink_axis_mask": 1, "end_mask": 6, "begin_mask": 6}),
        ([0, 2], [0, 3], [1, 1], {"ellipsis_mask": 1, "shrink_axis_mask": 2}),
        ([0, 0, 1], [0, 0, 2], [1, 1, 1], {"new_axis_mask": 1, "ellipsis_mask": 2, "shrink_axis_mask": 4}),
        ([0, 0], [0, 0], [1, 1], {"new_axis_mask": 3}),
        ([0, 1, 0], [0, 2, 0], [1, 1, 1], {"ellipsis_mask": 4, "new_axis_mask": 1, "shrink_axis_mask": 2}),
        ([-100], [100], [1], {}),
        ([100], [-100], [-1], {}),
        ([3, -1], [0, -6], [-1, -2], {}),
        ([-1, 0, 0], [0, 0, 0], [1, 1, 1], {"shrink_axis_mask": 1, "begin_mask": 1, "end_mask": 7}),
        ([0], [0], [1], {"ellipsis_mask": 1, "new_axis_mask": 1}),
        ([2, 0], [1, 0], [1, 1], {"new_axis_mask": 2}),
    ],
)
def test_strided_slice_cases(check, begin, end, strides, masks):
    strided(check, X, begin, end, strides, **masks)


def test_strided_slice_errors(check):
    for begin, end, strides, masks in [
        ([9], [10], [1], {"shrink_axis_mask": 1}),
        ([0], [1], [0], {}),
        ([0, 0], [1, 1], [1, 1], {"ellipsis_mask": 3}),
        ([1], [0], [-1], {"shrink_axis_mask": 1}),
    ]:
        inputs = {"input": X, "begin": np.int32(begin), "end": np.int32(end), "strides": np.int32(strides)}
        check.error("StridedSlice", inputs, masks)


def test_strided_slice_random(check, rng):
    """Random specs over all five masks: we match TF, errors included."""
    x = np.arange(3 * 4 * 5, dtype=np.int32).reshape(3, 4, 5)
    for _ in range(250):
        n = int(rng.integers(1, 5))
        begin = rng.integers(-6, 6, n).astype(np.int32)
        end = rng.integers(-6, 6, n).astype(np.int32)
        strides = rng.choice([-3, -2, -1, 1, 2, 3], n).astype(np.int32)
        masks = {name: int(rng.integers(0, 1 << n)) for name in MASK_NAMES}
        if rng.random() < 0.7:  # mostly a single ellipsis, so more cases are valid
            masks["ellipsis_mask"] &= 1 << int(rng.integers(0, n))
        inputs = {"input": x, "begin": begin, "end": end, "strides": strides}
        try:
            theirs = check.tf_run("StridedSlice", inputs, masks)
        except (check.tf.errors.InvalidArgumentError, ValueError):
            with pytest.raises(KernelError):
                check.ours("StridedSlice", inputs, masks)
            continue
        check.assert_same(check.ours("StridedSlice", inputs, masks), theirs, what=f"StridedSlice {inputs} {masks}")


def test_strided_slice_update(check, rng):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    value = np.ones((2, 5), np.float32)
    inputs = {"input": x, "begin": np.int32([1, 0]), "end": np.int32([3, 0]), "strides": np.int32([1, 1])}
    check("TensorStridedSliceUpdate", {**inputs, "value": value}, {"end_mask": 2})
    step = {"input": x, "begin": np.int32([3]), "end": np.int32([0]), "strides": np.int32([-2]), "value": value}
    check("TensorStridedSliceUpdate", step)


def test_slice(check):
    check("Slice", {"input": X, "begin": np.int32([1, 0, 2]), "size": np.int32([2, -1, 3])})
    check("Slice", {"input": X, "begin": np.int64([0, 5, 0]), "size": np.int64([4, 0, 6])})
    check.error("Slice", {"input": X, "begin": np.int32([2, 0, 0]), "size": np.int32([5, 1, 1])})
    check.error("Slice", {"input": X, "begin": np.int32([-1, 0, 0]), "size": np.int32([1, 1, 1])})


@pytest.mark.parametrize("axis,batch_dims", [(0, 0), (1, 0), (-1, 0), (1, 1), (2, 1), (2, 2)])
def test_gather_v2(check, rng, axis, batch_dims):
    params = rng.normal(size=(3, 4, 5)).astype(np.float32)
    limit = params.shape[axis]
    indices = rng.integers(0, limit, size=(3, 4, 2)[:batch_dims] + (2, 3)).astype(np.int32)
    check("GatherV2", {"params": params, "indices": indices, "axis": np.int32(axis)}, {"batch_dims": batch_dims})


def test_gather_misc(check):
    params = np.arange(10, dtype=np.int64).reshape(5, 2)
    check("GatherV2", {"params": params, "indices": np.int64(3), "axis": np.int32(0)})
    check("Gather", {"params": params, "indices": np.int32([[4, 0]])})
    check("GatherV2", {"params": np.array([b"a", b"b"], dtype=object), "indices": np.int32([1, 1]), "axis": 0})
    check.error("GatherV2", {"params": params, "indices": np.int32([5]), "axis": np.int32(0)})
    check.error("GatherV2", {"params": params, "indices": np.int32([-1]), "axis": np.int32(0)})


def test_gather_nd(check, rng):
    params = rng.normal(size=(3, 4, 5)).astype(np.float32)
    check("GatherNd", {"params": params, "indices": np.int32([[0, 1], [2, 3]])})
    check("GatherNd", {"params": params, "indices": np.int64([[[2], [0]]])})
    check("GatherNd", {"params": params, "indices": np.int32([[0, 1, 2]])})
    check.error("GatherNd", {"params": params, "indices": np.int32([[3, 0]])})
    check("GatherNd", {"params": params, "indices": np.int32([[3, 0], [1, 1]])}, {"bad_indices_policy": "IGNORE"})


def test_scatter(check):
    indices = np.int32([[1], [3], [1]])
    updates = np.float32([[1, 2], [3, 4], [5, 6]])
    check("ScatterNd", {"indices": indices, "updates": updates, "shape": np.int32([5, 2])})
    base = np.ones((5, 2), np.float32)
    for op in ("TensorScatterAdd", "TensorScatterSub", "TensorScatterMax", "TensorScatterMin"):
        check(op, {"tensor": base, "indices": indices, "updates": updates})
    unique = np.int32([[0, 1], [4, 0]])
    check("TensorScatterUpdate", {"tensor": base, "indices": unique, "updates": np.float32([7, 8])})
    bad = {"indices": np.int32([[5], [0]]), "updates": np.float32([[1, 2], [3, 4]]), "shape": np.int32([5, 2])}
    check.error("ScatterNd", bad)
    check("ScatterNd", bad, {"bad_indices_policy": "IGNORE"})


def test_size_guard(ours):
    """Value-sized outputs go through ctx.check_size before allocating."""
    for op, inputs in [
        ("Fill", [np.int64([1 << 20, 1 << 20]), np.float32(0)]),
        ("Tile", [np.zeros((2, 2)), np.int32([1 << 20, 1 << 20])]),
        ("BroadcastTo", [np.float32(1), np.int64([1 << 40])]),
        ("Range", [np.int64(0), np.int64(1 << 40), np.int64(1)]),
        ("Pad", [np.zeros(2), np.int64([[0, 1 << 40]])]),
        ("OneHot", [np.int32([1, 2, 3, 4]), np.int32(1 << 30), np.float32(1), np.float32(0)]),
        ("ScatterNd", [np.int32([[0]]), np.float32([1]), np.int64([1 << 40])]),
    ]:
        with pytest.raises(KernelError, match="over the limit"):
            ours(op, inputs, {})


def test_scalar_results_stay_scalar(check, tf):
    """0-d results must stay 0-d (np.ascontiguousarray would make them 1-d)."""
    v = np.arange(4, dtype=np.int32)
    scalar = check(
        "StridedSlice",
        {"input": v, "begin": np.int32([2]), "end": np.int32([3]), "strides": np.int32([1])},
        {"shrink_axis_mask": 1},
    )
    assert scalar.shape == ()
    check("Slice", {"input": np.float32(2.5), "begin": np.int32([]), "size": np.int32([])})
    check("Transpose", {"x": np.float32(2.5), "perm": np.int32([])})
    check("ReverseV2", {"tensor": np.float32(2.5), "axis": np.int32([])})
    check("Bitcast", {"input": np.float32(2.5)}, {"type": tf.int32})
    check("Cast", {"x": np.float32(1.7)}, {"DstT": tf.bfloat16, "Truncate": True})
    check("GatherV2", {"params": v, "indices": np.int32(1), "axis": np.int32(0)})
    check("Reshape", {"tensor": np.float32([3]), "shape": np.int32([])})
