"""Elementwise unary math, Cast and Bitcast.

Results keep the input dtype like TensorFlow's kernels do (NumPy would keep it
too, but 0-d inputs come back as NumPy scalars, hence the ``np.asarray``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ml_dtypes
import numpy as np

from ._util import KernelError, OpContext, dtype_of, op

_SIMPLE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Abs": np.abs,
    "Neg": np.negative,
    "Square": np.square,
    "Sqrt": np.sqrt,
    "Exp": np.exp,
    "Expm1": np.expm1,
    "Log": np.log,
    "Log1p": np.log1p,
    "Sin": np.sin,
    "Cos": np.cos,
    "Tan": np.tan,
    "Asin": np.arcsin,
    "Acos": np.arccos,
    "Atan": np.arctan,
    "Sinh": np.sinh,
    "Cosh": np.cosh,
    "Tanh": np.tanh,
    "Asinh": np.arcsinh,
    "Acosh": np.arccosh,
    "Atanh": np.arctanh,
    "Floor": np.floor,
    "Ceil": np.ceil,
    "Round": np.round,  # half to even, like TF
    "Rint": np.rint,
    "IsNan": np.isnan,
    "IsInf": np.isinf,
    "IsFinite": np.isfinite,
    "LogicalNot": np.logical_not,
    "Invert": np.invert,
    "Real": np.real,
    "Imag": np.imag,
    "Conj": np.conj,
}


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[OpContext, np.ndarray], np.ndarray]:
    def run(ctx: OpContext, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind in "biu" and fn in (np.round, np.rint, np.floor, np.ceil):
            return x.copy()
        return np.asarray(fn(x))

    run.__doc__ = f"Elementwise {fn.__name__}."
    return run


for _name, _fn in _SIMPLE.items():
    op(_name)(_unary(_fn))


@op("Sign")
def sign(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    """Sign; NaN stays NaN and -0.0 gives +0.0 like TF."""
    x = np.asarray(x)
    return np.asarray(np.sign(x) + np.zeros((), x.dtype))


@op("Reciprocal", "Inv")
def reciprocal(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind in "iu":
        if np.any(x == 0):
            raise KernelError("Integer division by zero")
        return np.asarray(np.trunc(1 / x.astype(np.float64)).astype(x.dtype))
    return np.asarray(np.reciprocal(x))


@op("Rsqrt")
def rsqrt(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return np.asarray(np.reciprocal(np.sqrt(x)))


@op("Sigmoid")
def sigmoid(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    """Logistic function, computed without overflow for large |x|."""
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.asarray(np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype))


# --- erf / erfc: NumPy has none, so float32 and narrower use a series for
# small |x| and a Chebyshev-fitted erfc (relative error < 1.2e-7) elsewhere;
# float64 uses the exact math.erf / math.erfc element by element.

_ERFC_FIT = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def _erf_series(x: np.ndarray) -> np.ndarray:
    """Maclaurin series of erf, accurate to ~1e-16 for |x| < 2."""
    total = np.zeros_like(x)
    term = x.copy()  # x^(2n+1) * (-1)^n / n!
    x2 = x * x
    for n in range(60):
        total += term / (2 * n + 1)
        term = -term * x2 / (n + 1)
    return total * (2 / math.sqrt(math.pi))


def _erfc_fit(z: np.ndarray) -> np.ndarray:
    """erfc for z >= 0."""
    t = 1 / (1 + 0.5 * z)
    poly = np.zeros_like(z)
    for c in reversed(_ERFC_FIT[1:]):
        poly = (poly + c) * t
    return t * np.exp(-z * z + _ERFC_FIT[0] + poly)


def _erf_pair(x: np.ndarray, complement: bool) -> np.ndarray:
    if x.dtype == np.float64:
        fn = math.erfc if complement else math.erf
        return np.asarray(np.frompyfunc(fn, 1, 1)(x).astype(np.float64))
    x64 = x.astype(np.float64)
    small = np.abs(x64) < 2
    series = _erf_series(np.where(small, x64, 0.0))
    tail = _erfc_fit(np.abs(x64))  # erfc(|x|)
    tail = np.where(x64 < 0, 2 - tail, tail)
    result = np.where(small, 1 - series if complement else series, tail if complement else 1 - tail)
    return np.asarray(result.astype(x.dtype))


@op("Erf")
def erf(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return _erf_pair(np.asarray(x), complement=False)


@op("Erfc")
def erfc(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return _erf_pair(np.asarray(x), complement=True)


# --- Cast -------------------------------------------------------------------


def _float_to_int(x: np.ndarray, dst: np.dtype) -> np.ndarray:
    """Emulate TF's float->int cast on x86: out-of-range and NaN give the
    'integer indefinite' value, and narrow types wrap what an int32 cast gives."""
    t = np.trunc(x.astype(np.float64))
    bits = dst.itemsize * 8
    if dst.kind == "i" and bits >= 32:
        ok = (t >= -(2.0 ** (bits - 1))) & (t < 2.0 ** (bits - 1))
        return np.where(ok, t, 0).astype(dst) | np.where(ok, 0, np.iinfo(dst).min).astype(dst)
    if bits < 32:
        return _float_to_int(t, np.dtype(np.int32)).astype(dst)
    # uint32 / uint64: signed range wraps, [2^(b-1), 2^b) is exact, the rest is 2^(b-1).
    signed = np.dtype(f"int{bits}")
    half = 2.0 ** (bits - 1)
    low = (t > -half) & (t < half)
    high = (t >= half) & (t < 2 * half)
    out = np.full(t.shape, 1 << (bits - 1), dtype=dst)
    out[low] = t[low].astype(signed).astype(dst)
    out[high] = t[high].astype(dst)
    return out


def _truncate_float(x: np.ndarray, dst: np.dtype) -> np.ndarray:
    """Narrow a float type rounding toward zero (Cast's ``Truncate=True``)."""
    if dst == np.dtype(ml_dtypes.bfloat16):
        f32 = _truncate_float(x, np.dtype(np.float32)) if x.dtype != np.float32 else x
        bits = np.asarray(f32, order="C").view(np.uint32) & np.uint32(0xFFFF0000)
        out = bits.view(np.float32).astype(dst)
        return np.where(np.isnan(f32), f32.astype(dst), out)
    rounded = x.astype(dst)
    wide = rounded.astype(np.float64)
    too_far = np.isfinite(x) & (np.abs(wide) > np.abs(x.astype(np.float64)))
    if np.any(too_far):
        toward_zero = np.nextafter(rounded, np.zeros((), dst))
        rounded = np.where(too_far, toward_zero, rounded)
    return rounded


def cast_array(x: np.ndarray, dst: np.dtype, truncate: bool = False) -> np.ndarray:
    """TF's Cast semantics for one array."""
    x = np.asarray(x)
    dst = np.dtype(dst)
    if x.dtype == dst:
        return x.copy()
    if x.dtype == np.dtype(object) or dst == np.dtype(object):
        raise KernelError(f"Cast {x.dtype} to {dst} is not supported")
    if x.dtype.kind == "c" and dst.kind != "c":
        x = np.real(x)
    if dst == np.bool_:
        return np.asarray(x != 0)
    src_float = x.dtype.kind == "f" or x.dtype in (ml_dtypes.bfloat16,)
    if src_float and dst.kind in "iu":
        return np.asarray(_float_to_int(x, dst))
    if truncate and src_float and dst.itemsize < x.dtype.itemsize and dst.kind != "c":
        return np.asarray(_truncate_float(x, dst))
    return np.asarray(x.astype(dst))


@op("Cast")
def cast(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    return cast_array(x, dtype_of(ctx, "DstT"), bool(ctx.attr("Truncate", False)))


@op("Bitcast")
def bitcast(ctx: OpContext, x: np.ndarray) -> np.ndarray:
    """Reinterpret bytes: a smaller type adds a trailing dim, a larger one eats it."""
    x = np.asarray(x, order="C")
    dst = dtype_of(ctx, "type")
    src_size, dst_size = x.dtype.itemsize, dst.itemsize
    if src_size == dst_size:
        return x.view(dst).copy()
    if src_size > dst_size:
        return x.view(dst).reshape(x.shape + (src_size // dst_size,)).copy()
    ratio = dst_size // src_size
    if x.ndim == 0 or x.shape[-1] != ratio:
        raise KernelError(f"Cannot bitcast from {x.dtype} to {dst}: shape {list(x.shape)} must end in {ratio}")
    return x.view(dst).reshape(x.shape[:-1]).copy()
