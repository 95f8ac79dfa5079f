"""Convolution and pooling kernels against tf.raw_ops: padding modes, strides,
dilations, NHWC and NCHW.

TF's CPU kernels refuse most NCHW ops, so NCHW cases run TF in NHWC and compare
with our NCHW result transposed (``check.nchw``).
"""

from __future__ import annotations

import numpy as np
import pytest

CONV_CASES = [
    # input shape, filter shape, strides, dilations, padding
    ((2, 7, 8, 3), (3, 3, 3, 4), [1, 1, 1, 1], [1, 1, 1, 1], "SAME"),
    ((1, 7, 8, 3), (3, 3, 3, 4), [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
    ((1, 8, 8, 2), (2, 2, 2, 3), [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
    ((1, 9, 7, 3), (3, 2, 3, 5), [1, 2, 3, 1], [1, 1, 1, 1], "VALID"),
    ((1, 9, 9, 2), (3, 3, 2, 2), [1, 1, 1, 1], [1, 2, 2, 1], "SAME"),
    ((1, 9, 9, 2), (3, 3, 2, 2), [1, 1, 1, 1], [1, 2, 3, 1], "VALID"),
    ((1, 5, 6, 2), (1, 1, 2, 3), [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
    ((1, 6, 6, 2), (3, 3, 2, 3), [1, 2, 1, 1], [1, 1, 1, 1], "EXPLICIT"),
]
EXPLICIT = [0, 0, 1, 2, 0, 1, 0, 0]


def conv_attrs(strides, dilations, padding):
    attrs = {"strides": strides, "dilations": dilations, "padding": padding}
    if padding == "EXPLICIT":
        attrs["explicit_paddings"] = EXPLICIT
    return attrs


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d(check, rng, case):
    xs, ws, strides, dilations, padding = case
    inputs = {"input": rng.normal(size=xs).astype(np.float32), "filter": rng.normal(size=ws).astype(np.float32)}
    attrs = conv_attrs(strides, dilations, padding)
    check("Conv2D", inputs, attrs)
    check.nchw("Conv2D", inputs, attrs, "input")


def test_conv2d_big_and_grouped(check, rng):
    # Patches of several images per block, then of one image's rows per block.
    for shape in [(3, 40, 40, 64), (1, 150, 130, 64)]:
        inputs = {
            "input": rng.normal(size=shape).astype(np.float32),
            "filter": rng.normal(size=(3, 3, 64, 8)).astype(np.float32),
        }
        check("Conv2D", inputs, {"strides": [1, 1, 1, 1], "padding": "SAME"}, rtol=1e-4, atol=1e-4)
        check("Conv2D", inputs, {"strides": [1, 2, 3, 1], "padding": "VALID"}, rtol=1e-4, atol=1e-4)
    grouped = {
        "input": rng.normal(size=(1, 6, 6, 4)).astype(np.float32),
        "filter": rng.normal(size=(3, 3, 2, 6)).astype(np.float32),
    }
    check("Conv2D", grouped, {"strides": [1, 1, 1, 1], "padding": "SAME"})
    check(
        "Conv2D", {k: v.astype(np.float64) for k, v in grouped.items()}, {"strides": [1, 1, 1, 1], "padding": "VALID"}
    )


def test_conv_errors(check, rng):
    x, w = np.zeros((1, 4, 4, 3), np.float32), np.zeros((3, 3, 2, 4), np.float32)
    check.error("Conv2D", {"input": x, "filter": w}, {"strides": [1, 1, 1, 1], "padding": "SAME"})
    # (A VALID window larger than the input is an error for us; TF's oneDNN kernel returns garbage.)


# TF's depthwise conv needs equal strides (and no strides with dilation); its CPU
# Conv2DBackpropInput has no dilations.
DEPTHWISE_CASES = [c for c in CONV_CASES if c[2][1] == c[2][2] and (c[3] == [1, 1, 1, 1] or c[2] == [1, 1, 1, 1])]
BACKPROP_CASES = [c for c in CONV_CASES if c[3] == [1, 1, 1, 1]]


def _pads(size: int, window: int, stride: int, mode: str, explicit: tuple[int, int]) -> tuple[int, int]:
    if mode == "VALID":
        return 0, 0
    if mode == "EXPLICIT":
        return explicit
    total = max((-(-size // stride) - 1) * stride + window - size, 0)  # SAME: output is ceil(size / stride)
    return total // 2, total - total // 2


def depthwise_reference(x: np.ndarray, w: np.ndarray, strides, dilations, padding: str) -> np.ndarray:
    """A direct depthwise convolution (NHWC) in float64: one shifted product per filter tap.

    It needs no TensorFlow, so every machine has it: TF's CPU kernel runs dilations only
    where oneDNN is used, which depends on the processor.
    """
    (kh, kw, channels, multiplier), (sh, sw), (dh, dw) = w.shape, strides[1:3], dilations[1:3]
    top, bottom = _pads(x.shape[1], (kh - 1) * dh + 1, sh, padding, tuple(EXPLICIT[2:4]))
    left, right = _pads(x.shape[2], (kw - 1) * dw + 1, sw, padding, tuple(EXPLICIT[4:6]))
    padded = np.pad(x.astype(np.float64), ((0, 0), (top, bottom), (left, right), (0, 0)))
    rows = (padded.shape[1] - (kh - 1) * dh - 1) // sh + 1
    cols = (padded.shape[2] - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((x.shape[0], rows, cols, channels, multiplier))
    for i in range(kh):
        for j in range(kw):
            taps = padded[:, i * dh : i * dh + (rows - 1) * sh + 1 : sh, j * dw : j * dw + (cols - 1) * sw + 1 : sw]
            out += taps[..., None] * w[i, j].astype(np.float64)
    return out.reshape(out.shape[:3] + (channels * multiplier,)).astype(x.dtype)


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("case", DEPTHWISE_CASES)
def test_depthwise(check, tf, rng, case, multiplier):
    xs, ws, strides, dilations, padding = case
    ws = ws[:2] + (xs[3], multiplier)
    inputs = {"input": rng.normal(size=xs).astype(np.float32), "filter": rng.normal(size=ws).astype(np.float32)}
    attrs = conv_attrs(strides, dilations, padding)
    want = depthwise_reference(inputs["input"], inputs["filter"], strides, dilations, padding)
    check.assert_same(check.ours("DepthwiseConv2dNative", inputs, attrs), want, what="against the reference")
    check.nchw("DepthwiseConv2dNative", inputs, attrs, "input", theirs=want)
    try:
        theirs = check.tf_run("DepthwiseConv2dNative", inputs, attrs)
    except tf.errors.UnimplementedError:
        return  # this CPU's TF kernel has no dilations (no oneDNN here); the reference above covers the case
    check.assert_same(want, theirs, what="reference against TF")
    check("DepthwiseConv2dNative", inputs, attrs)


@pytest.mark.parametrize("strides", [[1, 1, 1, 1], [1, 2, 2, 1]])
def test_depthwise_big(check, rng, strides):
    # Several images per block, and one image's rows per block.
    for shape in [(3, 30, 20, 8), (1, 120, 90, 24)]:
        inputs = {
            "input": rng.normal(size=shape).astype(np.float32),
            "filter": rng.normal(size=(3, 3, shape[-1], 1)).astype(np.float32),
        }
        for padding in ("SAME", "VALID"):
            check("DepthwiseConv2dNative", inputs, {"strides": strides, "padding": padding}, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", BACKPROP_CASES)
def test_conv2d_backprop_input(check, rng, case):
    xs, ws, strides, dilations, padding = case
    attrs = conv_attrs(strides, dilations, padding)
    forward = check.tf_run("Conv2D", {"input": np.zeros(xs, np.float32), "filter": np.zeros(ws, np.float32)}, attrs)
    dy = rng.normal(size=forward.shape).astype(np.float32)
    inputs = {"input_sizes": np.int32(xs), "filter": rng.normal(size=ws).astype(np.float32), "out_backprop": dy}
    check("Conv2DBackpropInput", inputs, attrs)


def test_conv3d(check, rng):
    x = rng.normal(size=(1, 5, 6, 4, 2)).astype(np.float32)
    w = rng.normal(size=(2, 3, 2, 2, 3)).astype(np.float32)
    for padding in ("SAME", "VALID"):
        check("Conv3D", {"input": x, "filter": w}, {"strides": [1, 1, 2, 1, 1], "padding": padding})


POOL_CASES = [
    ([1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
    ([1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
    ([1, 3, 2, 1], [1, 1, 2, 1], "SAME"),
    ([1, 3, 3, 1], [1, 3, 1, 1], "VALID"),
]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("op", ["MaxPool", "AvgPool"])
def test_pool(check, rng, case, op):
    ksize, strides, padding = case
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    key = "input" if op == "MaxPool" else "value"
    attrs = {"ksize": ksize, "strides": strides, "padding": padding}
    check(op, {key: x}, attrs)
    check.nchw(op, {key: x}, attrs, key)


def test_max_pool_nan(check):
    """NaN and -inf never win a TF max-pool window; all-NaN gives the lowest float."""
    x = np.float32([np.nan, 1, np.nan, np.nan, -np.inf, np.nan, 2, 5, -np.inf]).reshape(1, 3, 3, 1)
    for padding in ("SAME", "VALID"):
        check("MaxPool", {"input": x}, {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": padding})


def test_pool_variants(check, rng):
    x = rng.normal(size=(1, 5, 5, 2)).astype(np.float32)
    check(
        "MaxPoolV2",
        {"input": x, "ksize": np.int32([1, 2, 2, 1]), "strides": np.int32([1, 2, 2, 1])},
        {"padding": "SAME"},
    )
    check("MaxPool", {"input": np.int32(x * 10)}, {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "SAME"})
    x3 = rng.normal(size=(1, 4, 5, 3, 2)).astype(np.float32)
    for op in ("MaxPool3D", "AvgPool3D"):
        check(op, {"input": x3}, {"ksize": [1, 2, 2, 2, 1], "strides": [1, 2, 1, 2, 1], "padding": "SAME"})
    check.error("MaxPool", {"input": x}, {"ksize": [2, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "SAME"})
