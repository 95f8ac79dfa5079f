"""XLA kernels (what jax2tf emits) against the same ops compiled by TF's XLA.

Dimension numbers go to our kernels as serialized protos, like the loader
gives them; combiner functions are run through ``ctx.call_function``, which
here is a small dict of NumPy stand-ins for the interpreter.
"""

from __future__ import annotations

import numpy as np
import pytest

from sm_explorer.exec.registry import KernelError

FUNCTIONS = {
    "add": lambda a, b: a + b,
    "max": np.maximum,
    "min": np.minimum,
    "mul": lambda a, b: a * b,
    "replace": lambda a, b: b,
    "odd": lambda a, b: a * 2 + b,  # not a known combiner: applied elementwise
}


def call_function(name, args):
    return (np.asarray(FUNCTIONS[name](*args)),)


@pytest.fixture(scope="module")
def xla(tf):
    from tensorflow.compiler.tf2xla.python import xla as tfxla
    from tensorflow.compiler.xla import xla_data_pb2

    def jit(fn, *args):
        return tf.function(fn, jit_compile=True)(*args).numpy()

    def reducer(name, dtype):
        spec = tf.TensorSpec([], dtype)
        body = {
            "add": lambda a, b: a + b,
            "max": tf.maximum,
            "min": tf.minimum,
            "mul": lambda a, b: a * b,
            "replace": lambda a, b: b,
            "odd": lambda a, b: a * 2 + b,
        }[name]
        return tf.function(body).get_concrete_function(spec, spec)

    return tfxla, xla_data_pb2, jit, reducer


DOT_CASES = [
    # lhs shape, rhs shape, lhs contracting, rhs contracting, lhs batch, rhs batch
    ((2, 3, 4), (2, 4, 5), [2], [1], [0], [0]),
    ((2, 3, 4), (4, 5, 3), [1, 2], [2, 0], [], []),
    ((2, 3, 4), (4, 5), [2], [0], [], []),
    ((3,), (3, 32), [0], [0], [], []),
    ((5, 2, 3), (3, 2), [2], [0], [1], [1]),
]


@pytest.mark.parametrize("case", DOT_CASES)
def test_dot_general(xla, ours, rng, case):
    tfxla, pb, jit, _ = xla
    ls, rs, lc, rc, lb, rb = case
    lhs, rhs = rng.normal(size=ls).astype(np.float32), rng.normal(size=rs).astype(np.float32)
    dn = pb.DotDimensionNumbers(
        lhs_contracting_dimensions=lc, rhs_contracting_dimensions=rc, lhs_batch_dimensions=lb, rhs_batch_dimensions=rb
    )
    want = jit(lambda a, b: tfxla.dot_general(a, b, dn, preferred_element_type=np.float32, use_v2=True), lhs, rhs)
    attrs = {"dimension_numbers": dn.SerializeToString(), "preferred_element_type": np.dtype(np.float32)}
    got = ours("XlaDotV2", [lhs, rhs], attrs)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert got.dtype == want.dtype and got.shape == want.shape


def test_dynamic_slice_update_pad(xla, ours, rng):
    tfxla, _, jit, _ = xla
    x = rng.normal(size=(5, 6)).astype(np.float32)
    for start in ([1, 2], [4, 5], [-3, 1]):
        want = jit(lambda a, s=start: tfxla.dynamic_slice(a, np.int32(s), np.int32([2, 3])), x)
        np.testing.assert_array_equal(ours("XlaDynamicSlice", [x, np.int32(start), np.int32([2, 3])], {}), want)
        upd = np.ones((2, 3), np.float32)
        want = jit(lambda a, u, s=start: tfxla.dynamic_update_slice(a, u, np.int32(s)), x, upd)
        np.testing.assert_array_equal(ours("XlaDynamicUpdateSlice", [x, upd, np.int32(start)], {}), want)
    pads = (np.int32([1, -2]), np.int32([0, 2]), np.int32([1, 0]))
    want = jit(lambda a: tfxla.pad(a, np.float32(9), *pads), x)
    np.testing.assert_array_equal(ours("XlaPad", [x, np.float32(9), *pads], {}), want)


GATHER_CASES = [
    # operand shape, indices, slice sizes, offset_dims, collapsed, start_index_map, index_vector_dim
    ((7,), [[1], [5], [9]], [1], [], [0], [0], 1),  # what flowpm uses (with an out-of-range, clamped start)
    ((4, 5), [[0, 1], [3, 3]], [2, 2], [1, 2], [], [0, 1], 1),
    ((4, 5), [2, 0, 3], [1, 5], [1], [0], [0], 1),
    ((3, 4, 5), [[[1, 2]], [[0, 0]]], [1, 2, 5], [2, 3], [0], [0, 1], 2),
    ((4, 5), [[1], [3]], [1, 1], [], [0, 1], [1, 0], 0),
]


@pytest.mark.parametrize("case", GATHER_CASES)
def test_gather(xla, ours, rng, case):
    tfxla, pb, jit, _ = xla
    shape, indices, sizes, offset, collapsed, index_map, vector_dim = case
    operand = rng.normal(size=shape).astype(np.float32)
    indices = np.int32(indices)
    dn = pb.GatherDimensionNumbers(
        offset_dims=offset, collapsed_slice_dims=collapsed, start_index_map=index_map, index_vector_dim=vector_dim
    )
    want = jit(lambda a, i: tfxla.gather(a, i, dn, np.int32(sizes)), operand, indices)
    attrs = {"dimension_numbers": dn.SerializeToString().decode("latin-1").encode("latin-1")}
    got = ours("XlaGather", [operand, indices, np.int32(sizes)], attrs)
    np.testing.assert_array_equal(got, want)
    # The loader hands over string attrs decoded as UTF-8 when they are valid UTF-8.
    text = dn.SerializeToString()
    if not any(b >= 0x80 for b in text):
        got = ours("XlaGather", [operand, indices, np.int32(sizes)], {"dimension_numbers": text.decode("utf-8")})
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("combiner", ["add", "max", "min", "mul", "replace", "odd"])
def test_scatter(xla, ours, rng, tf, combiner):
    tfxla, pb, jit, reducer = xla
    operand = rng.normal(size=(6, 3)).astype(np.float32)
    indices = np.int32([[1], [4], [1], [5], [9]])  # a duplicate and an out-of-range window
    updates = rng.normal(size=(5, 3)).astype(np.float32)
    if combiner == "replace":
        indices = np.int32([[1], [4], [0], [5], [9]])
    dn = pb.ScatterDimensionNumbers(
        update_window_dims=[1], inserted_window_dims=[0], scatter_dims_to_operand_dims=[0], index_vector_dim=1
    )
    fn = reducer(combiner, tf.float32)
    want = jit(lambda o, i, u: tfxla.scatter(o, i, u, fn, dn), operand, indices, updates)
    attrs = {"dimension_numbers": dn.SerializeToString(), "update_computation": combiner}
    got = ours("XlaScatter", [operand, indices, updates], attrs, call_function=call_function)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_scatter_needs_interpreter(ours):
    with pytest.raises(KernelError, match="needs the interpreter"):
        ours("XlaScatter", [np.zeros(3), np.int32([[0]]), np.zeros((1,))], {"update_computation": "add"})


@pytest.mark.parametrize(
    "window,strides,base,wdil,padding,combiner",
    [
        ([15], [1], [1], [1], [(14, 0)], "add"),  # jax's cumsum, as in flowpm
        ([2, 3], [2, 1], [1, 1], [1, 1], [(0, 0), (1, 1)], "max"),
        ([2, 2], [1, 2], [2, 1], [1, 2], [(1, 0), (0, 2)], "add"),
        ([3, 1], [1, 1], [1, 1], [1, 1], [(1, 1), (0, 0)], "odd"),
    ],
)
def test_reduce_window(xla, ours, rng, tf, window, strides, base, wdil, padding, combiner):
    tfxla, _, jit, reducer = xla
    x = rng.normal(size=(15,) if len(window) == 1 else (5, 6)).astype(np.float32)
    init = np.float32(-np.inf if combiner == "max" else 0)
    fn = reducer(combiner, tf.float32)
    want = jit(lambda a: tfxla.reduce_window(a, init, fn, window, strides, base, wdil, padding), x)
    inputs = [x, init, np.int32(window), np.int32(strides), np.int32(base), np.int32(wdil), np.int32(padding)]
    got = ours("XlaReduceWindow", inputs, {"computation": combiner}, call_function=call_function)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_reduce(xla, ours, rng, tf):
    tfxla, _, jit, reducer = xla
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    for combiner, dims in (("add", [0, 2]), ("max", [1]), ("odd", [2])):
        fn = reducer(combiner, tf.float32)
        want = jit(lambda a, d=dims, f=fn: tfxla.reduce(a, np.float32(0), d, f), x)
        attrs = {"reducer": combiner, "dimensions_to_reduce": dims}
        got = ours("XlaReduce", [x, np.float32(0)], attrs, call_function=call_function)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
