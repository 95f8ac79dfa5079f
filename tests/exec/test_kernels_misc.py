"""String, tf.Example parsing, TensorList and misc kernels against tf.raw_ops."""

from __future__ import annotations

import numpy as np
import pytest

from sm_explorer.exec.registry import KernelError


def s(*items):
    out = np.empty(len(items), dtype=object)
    out[:] = [i.encode() if isinstance(i, str) else i for i in items]
    return out


def test_string_ops(check, tf):
    words = s("Hello", "wörld", "  pad  ", "")
    check("StringJoin", {"inputs": [words, np.array(b"-", dtype=object), words]}, {"separator": "/"})
    check("StringJoin", {"inputs": [np.array(b"a", dtype=object), np.array(b"b", dtype=object)]})
    check.error("StringJoin", {"inputs": [words, words[:2]]})
    check("StaticRegexFullMatch", {"input": s("s3://bucket", "gs://x", "s3:")}, {"pattern": "^s3://.*"})
    check("RegexFullMatch", {"input": words, "pattern": np.array(b"[a-zA-Z]+", dtype=object)})
    check("StaticRegexReplace", {"input": words}, {"pattern": "l+", "rewrite": "<\\0>", "replace_global": True})
    check("StaticRegexReplace", {"input": words}, {"pattern": "(l)(.)", "rewrite": "\\2\\1", "replace_global": False})
    pattern, rewrite = np.array(b"o", dtype=object), np.array(b"0", dtype=object)
    check("RegexReplace", {"input": words, "pattern": pattern, "rewrite": rewrite})
    base = np.array(b"/tmp/ckpt", dtype=object)
    check("ShardedFilename", {"basename": base, "shard": np.int32(3), "num_shards": np.int32(12)})
    check("ShardedFilespec", {"basename": base, "num_shards": np.int32(12)})
    check("StringLength", {"input": words})
    check("StringLength", {"input": words}, {"unit": "UTF8_CHAR"})
    check("StringLower", {"input": s("AbC", "XYZ")})
    check("StringUpper", {"input": s("AbC", "xyz")})
    check("StringStrip", {"input": words})
    check("Substr", {"input": words[:3], "pos": np.int32(1), "len": np.int32(3)})
    check(
        "Substr",
        {"input": s("hello", "wörld"), "pos": np.int32([-3, 1]), "len": np.int32([2, 9])},
        {"unit": "UTF8_CHAR"},
    )
    check.error("Substr", {"input": s("hi"), "pos": np.int32(5), "len": np.int32(1)})
    check.error("Substr", {"input": s("hi", "yo"), "pos": np.int32([0, 1]), "len": np.int32(1)})
    grid = s(*"abcdefgh").reshape(2, 2, 2)
    check("ReduceJoin", {"inputs": grid, "reduction_indices": np.int32(1)}, {"separator": ","})
    for axes in ([0, 1], [1, 0], [2, 0], [-1, 0], [0, 1, 2], [2, 1, 0], []):
        check("ReduceJoin", {"inputs": grid, "reduction_indices": np.int32(axes)}, {"keep_dims": len(axes) == 2})
    check("StringSplitV2", {"input": s("a b  c", "", "x,y"), "sep": np.array(b"", dtype=object)})
    check("StringSplitV2", {"input": s("a,b,,c", "x"), "sep": np.array(b",", dtype=object)}, {"maxsplit": 2})


def test_as_string_and_number(check, tf):
    floats = np.float32([3.5, -0.125, 1e10, np.nan])
    check("AsString", {"input": floats})
    check("AsString", {"input": floats}, {"precision": 2, "scientific": True})
    check("AsString", {"input": floats}, {"shortest": True})
    check("AsString", {"input": np.int64([7, -12])}, {"width": 5, "fill": "0"})
    check("AsString", {"input": np.array([True, False])})
    check("StringToNumber", {"string_tensor": s("3.5", "-2", "1e3")})
    check("StringToNumber", {"string_tensor": s("42", "-7")}, {"out_type": tf.int32})
    check("StringToNumber", {"string_tensor": s("42")}, {"out_type": tf.float64})
    check.error("StringToNumber", {"string_tensor": s("4x2")}, {"out_type": tf.int32})


def examples(tf):
    def feature(value):
        if isinstance(value[0], bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=value))
        if isinstance(value[0], float):
            return tf.train.Feature(float_list=tf.train.FloatList(value=value))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=value))

    rows = [
        {"x": [1.5], "ids": [3, -4], "name": [b"ann"], "tags": [b"p", b"q"]},
        {"x": [2.0], "ids": [7], "tags": [b"r"]},
        {"x": [-0.5], "ids": [], "name": [b"bo"]},
    ]
    out = [
        tf.train.Example(
            features=tf.train.Features(feature={k: feature(v) for k, v in row.items() if v})
        ).SerializeToString()
        for row in rows
    ]
    return s(*out)


def test_parse_example(check, tf):
    serialized = examples(tf)
    inputs = {
        "serialized": serialized,
        "names": s(),
        "sparse_keys": [np.array(b"ids", dtype=object), np.array(b"tags", dtype=object)],
        "dense_keys": [np.array(b"x", dtype=object), np.array(b"name", dtype=object)],
        "dense_defaults": [np.float32([]), np.array([b"?"], dtype=object)],
    }
    attrs = {"sparse_types": [tf.int64, tf.string], "dense_shapes": [[1], [1]]}
    check("ParseExample", inputs, attrs, ours={"Nsparse": 2, "Ndense": 2, "Tdense": [np.float32, np.dtype(object)]})
    missing = {**inputs, "dense_keys": [np.array(b"nope", dtype=object), inputs["dense_keys"][1]]}
    check.error("ParseExample", missing, attrs, ours={"Nsparse": 2, "Ndense": 2, "Tdense": [np.float32, object]})


def test_parse_example_v2(check, tf):
    serialized = examples(tf)
    inputs = {
        "serialized": serialized,
        "names": s(),
        "sparse_keys": s("tags"),
        "dense_keys": s("x"),
        "ragged_keys": s("ids"),
        "dense_defaults": [np.float32([0])],
    }
    attrs = {
        "num_sparse": 1,
        "sparse_types": [tf.string],
        "ragged_value_types": [tf.int64],
        "ragged_split_types": [tf.int32],
        "dense_shapes": [[1]],
    }
    check("ParseExampleV2", inputs, attrs, ours={"Tdense": [np.float32]})
    scalar = {**inputs, "serialized": np.array(serialized[0], dtype=object), "ragged_keys": s()}
    scalar_attrs = {**attrs, "ragged_value_types": [], "ragged_split_types": []}
    check("ParseExampleV2", scalar, scalar_attrs, ours={"Tdense": [np.float32]})
    check.error("ParseExampleV2", {**scalar, "dense_keys": s("ids")}, scalar_attrs, ours={"Tdense": [np.float32]})


def test_tensor_lists(tf, ours):
    """Build the same list with TF and with our kernels, step by step."""
    raw = tf.raw_ops
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    shape = np.int32([4])
    theirs = raw.TensorListFromTensor(tensor=data, element_shape=shape)
    mine = ours("TensorListFromTensor", [data, shape], {})
    item = np.float32([9, 9, 9, 9])
    theirs = raw.TensorListSetItem(input_handle=theirs, index=1, item=item)
    mine = ours("TensorListSetItem", [mine, np.int32(1), item], {"element_dtype": np.dtype(np.float32)})
    theirs = raw.TensorListPushBack(input_handle=theirs, tensor=item * 2)
    mine = ours("TensorListPushBack", [mine, item * 2], {})
    stack_attrs = {"element_dtype": np.dtype(np.float32), "num_elements": -1}
    want = raw.TensorListStack(input_handle=theirs, element_shape=shape, element_dtype=tf.float32).numpy()
    np.testing.assert_array_equal(ours("TensorListStack", [mine, shape], stack_attrs), want)
    got = ours("TensorListGetItem", [mine, np.int32(3), shape], {})
    np.testing.assert_array_equal(
        got, raw.TensorListGetItem(input_handle=theirs, index=3, element_shape=shape, element_dtype=tf.float32).numpy()
    )
    assert int(ours("TensorListLength", [mine], {})) == int(raw.TensorListLength(input_handle=theirs))
    _, last = ours("TensorListPopBack", [mine, shape], {})
    np.testing.assert_array_equal(last, item * 2)
    gathered = ours("TensorListGather", [mine, np.int32([2, 0]), shape], {})
    np.testing.assert_array_equal(gathered, data[[2, 0]])
    np.testing.assert_array_equal(ours("TensorListElementShape", [mine], {}), [4])


def test_tensor_list_reserve(tf, ours):
    reserved = ours("TensorListReserve", [np.int32([2]), np.int32(3)], {"element_dtype": np.dtype(np.int32)})
    filled = ours("TensorListSetItem", [reserved, np.int32(2), np.int32([5, 6])], {})
    stacked = ours("TensorListStack", [filled, np.int32([2])], {"num_elements": 3})
    want = tf.raw_ops.TensorListStack(
        input_handle=tf.raw_ops.TensorListSetItem(
            input_handle=tf.raw_ops.TensorListReserve(element_shape=[2], num_elements=3, element_dtype=tf.int32),
            index=2,
            item=[5, 6],
        ),
        element_shape=[2],
        element_dtype=tf.int32,
    )
    np.testing.assert_array_equal(stacked, want.numpy())
    assert stacked.dtype == np.int32
    with pytest.raises(KernelError):
        ours("TensorListGetItem", [filled, np.int32(3), np.int32([2])], {})
    unknown = ours("TensorListReserve", [np.int32(-1), np.int32(2)], {"element_dtype": np.dtype(np.float32)})
    with pytest.raises(KernelError):
        ours("TensorListStack", [unknown, np.int32(-1)], {})
    assert isinstance(unknown, np.ndarray) and unknown.dtype == object and unknown.shape == ()


def test_misc_kernels(check, tf, ours):
    value = np.arange(6, dtype=np.int64).reshape(2, 3)
    out = ours("Const", [], {"value": value, "dtype": np.dtype(np.int64)})
    np.testing.assert_array_equal(out, value)
    with pytest.raises(KernelError):
        ours("Const", [], {"dtype": np.dtype(np.float32)})
    assert ours("NoOp", [], {}) == ()
    handle = object()  # a resource handle passes through Identity untouched
    assert ours("Identity", [handle], {}) is handle
    assert ours("IdentityN", [handle, value], {})[0] is handle
    assert ours("Assert", [np.array(True), s("fine")], {}) == ()
    with pytest.raises(KernelError, match=r"assertion failed: \[x is\] \[1 2\]"):
        ours("Assert", [np.array(False), s("x is"), np.int32([1, 2])], {"summarize": 3})
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.raw_ops.Assert(condition=False, data=[tf.constant("x is")])


def test_random_ops(ours):
    u = ours("RandomUniform", [np.int32([3, 4])], {"dtype": np.dtype(np.float32), "seed": 1, "seed2": 2})
    assert u.shape == (3, 4) and u.dtype == np.float32 and (u >= 0).all() and (u < 1).all()
    again = ours("RandomUniform", [np.int32([3, 4])], {"dtype": np.dtype(np.float32), "seed": 1, "seed2": 2})
    np.testing.assert_array_equal(u, again)  # seeded ops are deterministic
    n = ours("TruncatedNormal", [np.int32([1000])], {"dtype": np.dtype(np.float64)})
    assert n.dtype == np.float64 and np.abs(n).max() <= 2
    i = ours("RandomUniformInt", [np.int32([50]), np.int64(-3), np.int64(4)], {})
    assert i.dtype == np.int64 and i.min() >= -3 and i.max() < 4
