"""Shape, construction, reduction and slicing kernels against tf.raw_ops."""

from __future__ import annotations

import numpy as np
import pytest

NAN = np.nan


def test_shape_ops(check, tf, rng):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    check("Shape", {"input": x})
    check("Shape", {"input": x}, {"out_type": tf.int64})
    check("Shape", {"input": np.float32(1)})
    check("ShapeN", {"input": [x, x[0]]}, ours={"N": 2})
    check("Size", {"input": x})
    check("Size", {"input": x}, {"out_type": tf.int64})
    check("Rank", {"input": x})
    check("Identity", {"input": x})
    check("IdentityN", {"input": [x, np.int32(3)]})
    check("StopGradient", {"input": x})
    check("PreventGradient", {"input": x})
    check("Snapshot", {"input": x})
    check("PlaceholderWithDefault", {"input": x}, {"shape": [None, 3, 4]})
    check("EnsureShape", {"input": x}, {"shape": [2, None, 4]})
    check.error("EnsureShape", {"input": x}, {"shape": [2, 4, 4]})
    check("CheckNumerics", {"tensor": x}, {"message": "ok"})
    check.error("CheckNumerics", {"tensor": np.float32([1, NAN])}, {"message": "boom"})


@pytest.mark.parametrize(
    "src,target",
    [((6,), [2, 3]), ((2, 3), [-1]), ((2, 3, 4), [4, -1]), ((0, 3), [-1, 0]), ((0, 3), [0, -1]), ((1,), [])],
)
def test_reshape(check, src, target):
    check("Reshape", {"tensor": np.arange(np.prod(src), dtype=np.float32).reshape(src), "shape": np.int32(target)})


def test_reshape_errors(check):
    x = np.zeros(6, np.float32)
    check.error("Reshape", {"tensor": x, "shape": np.int32([4, -1])})
    check.error("Reshape", {"tensor": x, "shape": np.int32([-1, -1])})
    check.error("Reshape", {"tensor": x, "shape": np.int32([5])})


def test_expand_squeeze(check):
    x = np.zeros((1, 2, 1), np.int32)
    for axis in (0, -1, 3, -4, 1):
        check("ExpandDims", {"input": x, "axis": np.int32(axis)})
    check.error("ExpandDims", {"input": x, "axis": np.int32(5)})
    check("Squeeze", {"input": x})
    for dims in ([-1], [0, 2]):  # the NodeDef attr is squeeze_dims; raw_ops calls it axis
        check("Squeeze", {"input": x}, {"axis": dims}, ours={"squeeze_dims": dims})
    check.error("Squeeze", {"input": x}, {"axis": [1]}, ours={"squeeze_dims": [1]})


def test_concat_pack_split(check, tf, rng):
    a, b = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(2, 1)).astype(np.float32)
    check("ConcatV2", {"values": [a, b], "axis": np.int32(-1)})
    check("ConcatV2", {"values": [a, a], "axis": np.int64(0)})
    check("Concat", {"concat_dim": np.int32(1), "values": [a, b]})
    check.error("ConcatV2", {"values": [a, b], "axis": np.int32(0)})
    check("Pack", {"values": [a, a, a]}, {"axis": 1})
    check("Pack", {"values": [np.int32(1), np.int32(2)]})
    check("Unpack", {"value": a}, {"num": 3, "axis": -1})
    check("Split", {"axis": np.int32(1), "value": np.arange(12).reshape(2, 6)}, {"num_split": 3})
    check.error("Split", {"axis": np.int32(0), "value": np.zeros(5)}, {"num_split": 2})
    check(
        "SplitV",
        {"value": np.arange(12).reshape(6, 2), "size_splits": np.int32([1, -1, 2]), "axis": np.int32(0)},
        {"num_split": 3},
    )
    check("ConcatOffset", {"concat_dim": np.int32(1), "shape": [np.int32([2, 3]), np.int32([2, 5])]})


def test_transpose_reverse_where_select(check, rng):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    check("Transpose", {"x": x, "perm": np.int32([2, 0, 1])})
    check.error("Transpose", {"x": x, "perm": np.int32([0, 0, 1])})
    check("InvertPermutation", {"x": np.int32([2, 0, 1])})
    check("ReverseV2", {"tensor": x, "axis": np.int32([0, -1])})
    check("Reverse", {"tensor": x, "dims": np.array([True, False, True])})
    check("Where", {"condition": np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)})
    check("Where", {"condition": np.array([[True, False, True]])})
    cond = np.array([True, False])
    check("Select", {"condition": cond, "x": np.ones((2, 2)), "y": np.zeros((2, 2))})
    check("Select", {"condition": np.array(True), "x": np.ones((2, 2)), "y": np.zeros((2, 2))})
    check("SelectV2", {"condition": cond, "t": np.ones((3, 2)), "e": np.float64(-1)})
    check("BroadcastArgs", {"s0": np.int32([2, 1, 3]), "s1": np.int32([4, 1])})
    for a, b in [([1, 1], [1, 1]), ([2, 1], [1, 3]), ([1], []), ([2, 3], [3]), ([1, 3], [2, 1, 3]), ([5], [1])]:
        check("BroadcastGradientArgs", {"s0": np.int32(a), "s1": np.int32(b)})


def test_construct(check, tf):
    check("Fill", {"dims": np.int32([2, 3]), "value": np.float32(1.5)})
    check("Fill", {"dims": np.int64([0, 3]), "value": np.int32(7)})
    check("ZerosLike", {"x": np.ones((2, 2), np.int64)})
    check("OnesLike", {"x": np.zeros((3,), np.float16)})
    check("Tile", {"input": np.array([[1, 2]]), "multiples": np.int32([2, 3])})
    check("Tile", {"input": np.array([[1, 2]]), "multiples": np.int32([2, 0])})
    check("BroadcastTo", {"input": np.array([1.0, 2.0]), "shape": np.int32([3, 2])})
    check.error("BroadcastTo", {"input": np.array([1.0, 2.0]), "shape": np.int32([3, 3])})
    check("Pad", {"input": np.ones((2, 3)), "paddings": np.int32([[1, 0], [2, 1]])})
    check("PadV2", {"input": np.ones((2, 3)), "paddings": np.int32([[1, 0], [2, 1]]), "constant_values": np.float64(5)})
    for mode in ("REFLECT", "SYMMETRIC"):
        check(
            "MirrorPad", {"input": np.arange(6).reshape(2, 3), "paddings": np.int32([[1, 1], [2, 2]])}, {"mode": mode}
        )
    check.error("MirrorPad", {"input": np.arange(3), "paddings": np.int32([[3, 0]])}, {"mode": "REFLECT"})
    check(
        "OneHot",
        {
            "indices": np.int32([0, 2, -1, 5]),
            "depth": np.int32(3),
            "on_value": np.float32(1),
            "off_value": np.float32(0),
        },
    )
    check(
        "OneHot",
        {
            "indices": np.int64([[0, 2], [1, 1]]),
            "depth": np.int32(3),
            "on_value": np.int32(5),
            "off_value": np.int32(1),
        },
        {"axis": 0},
    )


@pytest.mark.parametrize(
    "start,limit,delta",
    [
        (0, 10, 3),
        (5, 1, -2),
        (0.0, 1.0, 0.1),
        (1000.3, 1100.0, 0.7),
        (np.int64(1), np.int64(4), np.int64(1)),
        (3, 3, 1),
    ],
)
def test_range(check, start, limit, delta):
    dtype = (
        np.asarray(start).dtype.type
        if isinstance(start, np.generic)
        else (np.float32 if isinstance(start, float) else np.int32)
    )
    check("Range", {"start": dtype(start), "limit": dtype(limit), "delta": dtype(delta)})


def test_range_errors(check):
    check.error("Range", {"start": np.int32(5), "limit": np.int32(10), "delta": np.int32(-2)})
    check.error("Range", {"start": np.int32(5), "limit": np.int32(10), "delta": np.int32(0)})


def test_dynamic_stitch(check):
    indices = [np.int32([0, 2]), np.int32([[1], [2]])]
    data = [np.float32([[1, 1], [2, 2]]), np.float32([[[3, 3]], [[4, 4]]])]
    check("DynamicStitch", {"indices": indices, "data": data})
    check("ParallelDynamicStitch", {"indices": indices, "data": data})


REDUCE_X = np.array([[1.0, NAN, 3.0, -2.0], [4.0, 5.0, -6.0, 0.5], [0.0, 1.0, 2.0, 3.0]], np.float32)


@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Min", "Prod", "EuclideanNorm"])
@pytest.mark.parametrize("axis", [[0], [1], [-1], [0, 1], []])
@pytest.mark.parametrize("keep", [False, True])
def test_reductions(check, op, axis, keep):
    check(op, {"input": REDUCE_X, "axis": np.int32(axis)}, {"keep_dims": keep})
    check(op, {"input": np.arange(-6, 6, dtype=np.int32).reshape(3, 4), "axis": np.int64(axis)}, {"keep_dims": keep})


def test_reduction_edges(check):
    for op in ("Sum", "Mean", "Max", "Min", "Prod"):
        check(op, {"input": np.zeros((0, 3), np.float32), "axis": np.int32(0)})
    check("Max", {"input": np.zeros((0,), np.int32), "axis": np.int32(0)})
    check("Mean", {"input": np.int32([-1, -2, -2]), "axis": np.int32(0)})
    check("Sum", {"input": np.float32(3.0), "axis": np.int32([])})
    check("All", {"input": np.array([[True, False], [True, True]]), "axis": np.int32(1)})
    check("Any", {"input": np.array([[True, False], [False, False]]), "axis": np.int32([0, 1])}, {"keep_dims": True})
    check.error("Sum", {"input": np.ones((2, 3)), "axis": np.int32([0, 0])})
    check.error("Sum", {"input": np.ones((2, 3)), "axis": np.int32([2])})


@pytest.mark.parametrize("row", [[NAN, 1, 3], [NAN, -np.inf], [NAN, NAN], [-np.inf, NAN], [2, NAN, 2, 5, NAN]])
def test_arg_reductions_nan(check, tf, row):
    x = np.array(row, np.float32)
    for op in ("ArgMax", "ArgMin"):
        check(op, {"input": x, "dimension": np.int32(0)})
        check(op, {"input": np.stack([x, x[::-1]]), "dimension": np.int32(1)}, {"output_type": tf.int32})


def test_arg_and_cumulative(check, rng):
    x = rng.integers(-5, 5, size=(3, 4)).astype(np.int32)
    check("ArgMax", {"input": x, "dimension": np.int32(-1)})
    check("ArgMin", {"input": x, "dimension": np.int64(0)})
    check.error("ArgMax", {"input": np.zeros((0,), np.float32), "dimension": np.int32(0)})
    for op in ("Cumsum", "Cumprod"):
        for exclusive in (False, True):
            for reverse in (False, True):
                attrs = {"exclusive": exclusive, "reverse": reverse}
                check(op, {"x": x, "axis": np.int32(1)}, attrs)
                check(op, {"x": x.astype(np.float32), "axis": np.int32(0)}, attrs)


def test_segments(check):
    data = np.arange(12, dtype=np.float32).reshape(4, 3) - 5
    ids = np.int32([0, 0, 2, 2])
    for kind in ("Sum", "Prod", "Max", "Min"):
        check(f"Segment{kind}", {"data": data, "segment_ids": ids})
        check(f"UnsortedSegment{kind}", {"data": data, "segment_ids": np.int32([3, -1, 0, 3]), "num_segments": 5})
