"""Fused elementwise tails give the numbers of the unfused run.

The graphs here put every tail shape the planner knows next to the cases it
must refuse (a non per-channel operand, a fetched intermediate, NCHW, float16,
two chains wanting the same residual add), run them fused and unfused on
inputs with NaN, infinities and signed zeros, and compare bit for bit, except
where a batch-norm scale was folded into a filter: that may differ by rounding,
and whether it does depends on the machine's BLAS kernel, so those outputs are
compared within a tolerance and the folds themselves are counted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sm_explorer._proto import graph_pb2, types_pb2
from sm_explorer.core.loader import open_saved_model
from sm_explorer.exec import interpreter
from sm_explorer.exec.fusion import fold_scale, lazy_pad, plan_pads, plan_tails
from sm_explorer.exec.session import Session
from sm_explorer.export import Signature, write_saved_model

FLOAT, HALF, INT32 = 1, 19, 3
ENUMS = {np.dtype(np.float32): FLOAT, np.dtype(np.float16): HALF, np.dtype(np.int32): INT32}
RNG = np.random.default_rng(7)
N, H, W, C, CO = 2, 9, 11, 5, 6


def _attr(graph_node: graph_pb2.NodeDef, key: str, value: object) -> None:
    target = graph_node.attr[key]
    if isinstance(value, np.ndarray):
        target.tensor.dtype = ENUMS[value.dtype]
        target.tensor.tensor_shape.CopyFrom(
            types_pb2.TensorShapeProto(dim=[types_pb2.TensorShapeProto.Dim(size=d) for d in value.shape])
        )
        target.tensor.tensor_content = value.tobytes()
    elif isinstance(value, str):
        target.s = value.encode()
    elif isinstance(value, list):
        target.list.i.extend(value)
    elif isinstance(value, tuple):  # ("type", enum)
        target.type = value[1]


class Graph:
    def __init__(self) -> None:
        self.graph = graph_pb2.GraphDef()

    def add(self, name: str, op: str, inputs: list[str] = (), dtype: int = FLOAT, **attrs: object) -> str:
        node = self.graph.node.add(name=name, op=op, input=list(inputs))
        _attr(node, "T", ("type", dtype))
        for key, value in attrs.items():
            _attr(node, key, value)
        return name

    def const(self, name: str, value: np.ndarray) -> str:
        node = self.graph.node.add(name=name, op="Const")
        _attr(node, "dtype", ("type", ENUMS[value.dtype]))
        _attr(node, "value", value)
        return name

    def conv(self, name: str, x: str, w: np.ndarray, dtype: int = FLOAT, **attrs: object) -> str:
        attrs = {"strides": [1, 1, 1, 1], "padding": "SAME", **attrs}
        return self.add(name, "Conv2D", [x, self.const(name + "/w", w)], dtype, **attrs)


def _values(shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
    return RNG.normal(size=shape).astype(dtype)


def build(tmp_path: Path) -> tuple[Path, list[str]]:
    g = Graph()
    for name, dtype in [("x", FLOAT), ("m", FLOAT), ("h", HALF), ("big", FLOAT)]:
        _attr(g.graph.node.add(name=name, op="Placeholder"), "dtype", ("type", dtype))
    outputs = []

    # Conv2D > BiasAdd > Mul(per-channel) > Sub(side first) > AddV2(residual, full shape) > Relu6
    a = g.conv("a", "x", _values((3, 3, C, CO)))
    a = g.add("a/bias", "BiasAdd", [a, g.const("a/b", _values((CO,)))], data_format="NHWC")
    a = g.add("a/mul", "Mul", [a, g.const("a/s", _values((1, 1, 1, CO)))])
    a = g.add("a/sub", "Sub", [g.const("a/t", _values((CO,))), a])
    b = g.conv("b", "x", _values((1, 1, C, CO)))
    b = g.add("b/mul", "Mul", [g.const("b/s", _values((CO,))), b])
    b = g.add("b/add", "AddV2", [b, g.const("b/t", _values((1, CO)))])
    r = g.add("res", "AddV2", [a, b])  # both chains would like this one
    outputs.append(g.add("res/relu6", "Relu6", [r]))

    # Depthwise with a stride, then Relu; a scalar operand; Maximum and Minimum.
    d = g.add(
        "d",
        "DepthwiseConv2dNative",
        ["res/relu6", g.const("d/w", _values((3, 3, CO, 1)))],
        strides=[1, 2, 2, 1],
        padding="VALID",
        dilations=[1, 1, 1, 1],
    )
    d = g.add("d/mul", "Mul", [d, g.const("d/s", np.array(0.5, np.float32))])
    d = g.add("d/max", "Maximum", [d, g.const("d/lo", _values((CO,)))])
    d = g.add("d/min", "Minimum", [g.const("d/hi", _values((CO,))), d])
    outputs.append(g.add("d/relu", "Relu", [d]))

    # A stride-1 dilated depthwise.
    e = g.add(
        "e",
        "DepthwiseConv2dNative",
        ["x", g.const("e/w", _values((3, 3, C, 1)))],
        strides=[1, 1, 1, 1],
        padding="SAME",
        dilations=[1, 2, 2, 1],
    )
    outputs.append(g.add("e/relu", "Relu", [g.add("e/add", "AddV2", [e, g.const("e/t", _values((C,)))])]))

    # An operand that is neither per-channel nor full-shape: the tail must not fuse.
    f = g.conv("f", "x", _values((3, 3, C, CO)))
    outputs.append(g.add("f/mul", "Mul", [f, g.const("f/s", _values((W, CO)))]))

    # NCHW: the kernel's blocks are channels-last, so the tail runs after it.
    n = g.conv("n", "x", _values((3, 3, H, CO)), data_format="NCHW")
    outputs.append(g.add("n/add", "AddV2", [n, g.const("n/t", _values((C,)))]))

    # float16 accumulates in float32: the tail must see the float16 result.
    hh = g.conv("hh", "h", _values((3, 3, C, CO), np.float16), dtype=HALF)
    outputs.append(g.add("hh/mul", "Mul", [hh, g.const("hh/s", _values((CO,), np.float16))], dtype=HALF))

    # MatMul > BiasAdd > Relu, with its middle fetched too.
    mm = g.add("mm", "MatMul", ["m", g.const("mm/w", _values((7, 4)))])
    mm = g.add("mm/bias", "BiasAdd", [mm, g.const("mm/b", _values((4,)))])
    outputs += [mm, g.add("mm/relu", "Relu", [mm])]

    # Pads left to the VALID convolution after them, and two that must really pad.
    pads = np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32)
    g.const("pads", pads)
    p = g.add("p", "Pad", ["x", "pads"], Tpaddings=("type", INT32))
    p = g.add(
        "p/dw",
        "DepthwiseConv2dNative",
        [p, g.const("p/w", _values((3, 3, C, 1)))],
        strides=[1, 2, 2, 1],
        padding="VALID",
        dilations=[1, 1, 1, 1],
    )
    outputs.append(g.add("p/relu", "Relu", [p]))
    q = g.add("q", "Pad", ["x", "pads"], Tpaddings=("type", INT32))
    outputs.append(g.conv("q/conv", q, _values((2, 3, C, CO)), padding="VALID", strides=[1, 1, 2, 1]))
    g.const("pads_c", np.array([[0, 0], [1, 1], [1, 1], [0, 2]], np.int32))
    r = g.add("r", "Pad", ["x", "pads_c"], Tpaddings=("type", INT32))  # pads channels: not for the conv
    outputs.append(
        g.add(
            "r/dw",
            "DepthwiseConv2dNative",
            [r, g.const("r/w", _values((3, 3, C + 2, 1)))],
            strides=[1, 1, 1, 1],
            padding="VALID",
            dilations=[1, 1, 1, 1],
        )
    )

    # An image large enough that convolution and depthwise work in blocks of rows,
    # with a full-shape residual operand sliced to match each block.
    k = g.conv("k", "big", _values((3, 3, 8, 8)))
    k = g.add("k/mul", "Mul", [k, g.const("k/s", _values((8,)))])
    k = g.add("k/res", "AddV2", [k, g.conv("k2", "big", _values((1, 1, 8, 8)))])
    k = g.add("k/relu6", "Relu6", [k])
    k = g.add(
        "kd",
        "DepthwiseConv2dNative",
        [k, g.const("kd/w", _values((3, 3, 8, 1)))],
        strides=[1, 1, 1, 1],
        padding="SAME",
        dilations=[1, 1, 1, 1],
    )
    k = g.add("kd/add", "AddV2", [k, g.const("kd/t", _values((8,)))])
    outputs.append(g.add("kd/relu6", "Relu6", [k]))

    for name in outputs:
        g.add(name + "/out", "Identity", [name])
    signature = Signature({"x": ("x:0", "float32", None)}, {o: (o + "/out:0", "float32", None) for o in outputs})
    path = write_saved_model(tmp_path / "model", g.graph, signature)
    return path, [o + "/out:0" for o in outputs]


def make_feeds() -> dict[str, np.ndarray]:
    x = _values((N, H, W, C))
    x.flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30]
    h = _values((N, H, W, C), np.float16)
    h.flat[:3] = [np.nan, -0.0, 6e4]
    big = _values((1, 200, 100, 8))
    big[0, 150, 50] = np.nan
    return {"x:0": x, "m:0": _values((3, 7)), "h:0": h, "big:0": big}


FEEDS = make_feeds()


def run(path: Path, fetches: list[str], fuse: bool) -> list[np.ndarray]:
    session = Session(open_saved_model(path))
    session.interpreter.fuse = fuse
    return session.run_graph(FEEDS, fetches)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    return build(tmp_path_factory.mktemp("fusion"))


# Outputs downstream of a Mul folded into a filter (b's 1x1 conv, d's scalar, k's 3x3 conv).
FOLDED = {"res/relu6/out:0", "d/relu/out:0", "kd/relu6/out:0"}


def test_fused_equals_unfused_bit_for_bit(model: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    path, fetches = model
    folds: list[str] = []

    def spy(op, attrs, inputs, ops, sides):  # records each producer whose filter took the scale
        result = fold_scale(op, attrs, inputs, ops, sides)
        if result is not inputs:
            folds.append(op)
        return result

    monkeypatch.setattr(interpreter, "fold_scale", spy)
    fused = run(path, fetches, True)
    # b's 1x1 conv, k's 3x3 conv and d's depthwise conv take their scale into the filter
    assert sorted(folds) == ["Conv2D", "Conv2D", "DepthwiseConv2dNative"], folds
    folds.clear()
    plain = run(path, fetches, False)
    assert folds == []
    for name, a, b in zip(fetches, fused, plain):
        if name in FOLDED:
            # Folding rounds differently or not, depending on the BLAS kernel: only closeness is ours.
            assert np.array_equal(np.isnan(a), np.isnan(b)), name
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)
        else:
            assert same_bits(a, b), name
    assert np.isnan(fused[0]).any() and np.isnan(fused[-1]).any()  # NaN made it through the tails


def test_fetching_a_tail_node_stops_the_tail_there(model: tuple[Path, list[str]]) -> None:
    path, fetches = model
    inner = ["a/mul:0", "res:0", "d/max:0"]
    fused, plain = run(path, inner + fetches, True), run(path, inner + fetches, False)
    for name, a, b in zip(inner + fetches, fused, plain):
        if name in FOLDED | {"res:0", "d/max:0"}:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)
        else:
            assert same_bits(a, b), name


def test_fold_scale_only_where_it_is_safe_and_cheap() -> None:
    x = _values((1, 16, 16, 4))
    w = _values((3, 3, 4, 2))
    scale = _values((2,))
    folded = fold_scale("Conv2D", {}, [x, w], ["Mul", "AddV2"], [scale, None])
    np.testing.assert_array_equal(folded[1], w * scale)
    depthwise = _values((3, 3, 4, 2))
    folded = fold_scale("DepthwiseConv2dNative", {}, [x, depthwise], ["Mul"], [_values((1, 1, 1, 8))])
    assert folded[1].shape == depthwise.shape
    refused = [
        ("Conv2D", {}, [x, w], ["AddV2"], [scale]),  # not a Mul
        ("Conv2D", {"data_format": "NCHW"}, [x, w], ["Mul"], [scale]),
        ("Conv2D", {}, [x, w], ["Mul"], [_values((8, 2))]),  # not per-channel
        ("Conv2D", {}, [x, w.astype(np.float16)], ["Mul"], [scale.astype(np.float16)]),
        ("Conv2D", {}, [x[:, :2, :2], w], ["Mul"], [scale]),  # the filter is big next to the data
        ("MatMul", {"transpose_b": True}, [x.reshape(64, 16), _values((16, 16))], ["Mul"], [_values((16,))]),
        ("Relu", {}, [x, w], ["Mul"], [scale]),
    ]
    for op, attrs, inputs, ops, sides in refused:
        assert fold_scale(op, attrs, inputs, ops, sides) is inputs, (op, attrs)


def test_plan_fuses_what_it_may_and_nothing_else(model: tuple[Path, list[str]]) -> None:
    path, fetches = model
    session = Session(open_saved_model(path))
    body = session.interpreter.graph()
    refs = [body.parse_ref(f) for f in fetches]
    needed = session.interpreter._needed(body, {}, refs, [])  # noqa: SLF001
    tails = {p: t.nodes for p, t in plan_tails(body, needed, {}, {r[0] for r in refs}).items()}
    assert tails["d"] == ["d/mul", "d/max", "d/min", "d/relu"]
    assert tails["e"] == ["e/add", "e/relu"]
    assert tails["mm"] == ["mm/bias"]  # fetched: the tail stops there and mm/relu runs alone
    # Both chains reach the residual add; exactly one takes it (and the Relu6 after it).
    assert [tails["a"][:3], tails["b"][:2]] == [["a/bias", "a/mul", "a/sub"], ["b/mul", "b/add"]]
    assert sorted([tails["a"][3:], tails["b"][2:]]) == [[], ["res", "res/relu6"]]
    # Planned, but refused at run time (checked by the bit-for-bit test): a (W, C) operand.
    assert tails["f"] == ["f/mul"] and tails["n"] == ["n/add"] and tails["hh"] == ["hh/mul"]
    assert tails["kd"] == ["kd/add", "kd/relu6"]
    # Planned; r pads channels, so at run time it pads for real.
    assert plan_pads(body, needed, {}, {r[0] for r in refs}) == {"p", "q", "r"}
    x = FEEDS["x:0"]
    assert lazy_pad(x, np.array([[0, 0], [1, 1], [1, 1], [0, 2]])) is None
    assert lazy_pad(x, np.array([[0, 0], [1, 2], [0, 1], [0, 0]])).spatial == ((1, 2), (0, 1))


def test_threaded_run_matches_the_serial_one(model: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels split over threads (forced here: the model is small) give the serial numbers,
    up to rounding: BLAS may sum a product of another shape in another order."""
    from sm_explorer.exec import parallel

    path, fetches = model
    monkeypatch.setenv("SM_EXPLORER_THREADS", "1")
    serial = run(path, fetches, True)
    monkeypatch.setenv("SM_EXPLORER_THREADS", "3")
    monkeypatch.setattr(parallel, "_THREADED_WORK", 0)
    calls = []
    original = parallel.split

    def counting(fn, items):
        calls.append(len(items))
        return original(fn, items)

    for module in ("sm_explorer.exec.kernels.conv", "sm_explorer.exec.kernels.depthwise", "sm_explorer.exec.fusion"):
        monkeypatch.setattr(f"{module}.split", counting)
    threaded = run(path, fetches, True)
    assert any(n >= 3 for n in calls), calls  # some kernels did split
    for name, a, b in zip(fetches, threaded, serial):
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_huge_pads_hit_the_budget_fused_or_not(tmp_path: Path) -> None:
    """A Pad left to the convolution must not dodge the Pad kernel's size check: 32 bytes of
    paddings in the file cannot buy gigabytes."""
    from sm_explorer.errors import LimitError

    g = Graph()
    _attr(g.graph.node.add(name="x", op="Placeholder"), "dtype", ("type", FLOAT))
    g.const("pads", np.array([[0, 0], [10**7, 10**7], [10**7, 10**7], [0, 0]], np.int32))
    p = g.add("p", "Pad", ["x", "pads"], Tpaddings=("type", INT32))
    p = g.add(
        "p/dw",
        "DepthwiseConv2dNative",
        [p, g.const("p/w", _values((3, 3, C, 1)))],
        strides=[1, 1, 1, 1],
        padding="VALID",
        dilations=[1, 1, 1, 1],
    )
    g.add("out", "Identity", [p])
    explicit = g.conv("e", "x", _values((3, 3, C, CO)), padding="EXPLICIT")
    g.graph.node[-1].attr["explicit_paddings"].list.i.extend([0, 0, 10**7, 10**7, 0, 0, 0, 0])
    g.add("e/out", "Identity", [explicit])
    path = write_saved_model(tmp_path / "m", g.graph, Signature({"x": ("x:0", "float32", None)}, {}))
    for fuse in (True, False):
        for fetch in ("out:0", "e/out:0"):
            session = Session(open_saved_model(path))
            session.interpreter.fuse = fuse
            with pytest.raises(LimitError, match="over the limit"):
                session.run_graph({"x:0": FEEDS["x:0"]}, [fetch])
