"""TensorFlow's DataType enum, mapped to Python names and NumPy dtypes."""

from __future__ import annotations

import numpy as np

__all__ = ["dtype_name", "numpy_dtype", "is_numeric", "REF_OFFSET", "dtype_from_name", "from_numpy"]

REF_OFFSET = 100  # DT_FLOAT_REF == DT_FLOAT + 100, and so on


def _ml(name: str) -> np.dtype | None:
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes is a dependency
        return None
    kind = getattr(ml_dtypes, name, None)
    return np.dtype(kind) if kind is not None else None


# enum value -> (TF python name, numpy dtype or None when not a plain array)
_TABLE: dict[int, tuple[str, np.dtype | None]] = {
    1: ("float32", np.dtype(np.float32)),
    2: ("float64", np.dtype(np.float64)),
    3: ("int32", np.dtype(np.int32)),
    4: ("uint8", np.dtype(np.uint8)),
    5: ("int16", np.dtype(np.int16)),
    6: ("int8", np.dtype(np.int8)),
    7: ("string", np.dtype(object)),
    8: ("complex64", np.dtype(np.complex64)),
    9: ("int64", np.dtype(np.int64)),
    10: ("bool", np.dtype(np.bool_)),
    11: ("qint8", np.dtype(np.int8)),
    12: ("quint8", np.dtype(np.uint8)),
    13: ("qint32", np.dtype(np.int32)),
    14: ("bfloat16", _ml("bfloat16")),
    15: ("qint16", np.dtype(np.int16)),
    16: ("quint16", np.dtype(np.uint16)),
    17: ("uint16", np.dtype(np.uint16)),
    18: ("complex128", np.dtype(np.complex128)),
    19: ("float16", np.dtype(np.float16)),
    20: ("resource", None),
    21: ("variant", None),
    22: ("uint32", np.dtype(np.uint32)),
    23: ("uint64", np.dtype(np.uint64)),
    24: ("float8_e5m2", _ml("float8_e5m2")),
    25: ("float8_e4m3fn", _ml("float8_e4m3fn")),
    26: ("float8_e4m3fnuz", _ml("float8_e4m3fnuz")),
    27: ("float8_e4m3b11fnuz", _ml("float8_e4m3b11fnuz")),
    28: ("float8_e5m2fnuz", _ml("float8_e5m2fnuz")),
    # Sub-byte types are stored one element per byte in checkpoints.
    29: ("int4", _ml("int4")),
    30: ("uint4", _ml("uint4")),
    31: ("int2", _ml("int2")),
    32: ("uint2", _ml("uint2")),
    33: ("float4_e2m1fn", _ml("float4_e2m1fn")),
}
_BY_NAME = {name: value for value, (name, _) in _TABLE.items()}


def _base(value: int) -> tuple[int, bool]:
    if value > REF_OFFSET and value - REF_OFFSET in _TABLE:
        return value - REF_OFFSET, True
    return value, False


def dtype_name(value: int) -> str:
    """TensorFlow's Python name for an enum value ("float32", "float32_ref", ...)."""
    if value == 0:
        return "invalid"
    base, ref = _base(value)
    if base not in _TABLE:
        return f"enum{value}"
    return _TABLE[base][0] + ("_ref" if ref else "")


def numpy_dtype(value: int) -> np.dtype | None:
    """The NumPy dtype that holds values of this type (object for strings), or None."""
    base, _ = _base(value)
    entry = _TABLE.get(base)
    return entry[1] if entry else None


def is_numeric(value: int) -> bool:
    """True when values are fixed-size elements a NumPy array can view directly."""
    dt = numpy_dtype(value)
    return dt is not None and dt.kind != "O"


def dtype_from_name(name: str) -> int:
    """The enum value for a TF Python dtype name; lists the valid names otherwise."""
    base = name.removesuffix("_ref")
    if base not in _BY_NAME:
        raise ValueError(f"unknown dtype {name!r}; valid: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[base] + (REF_OFFSET if name.endswith("_ref") else 0)


def from_numpy(dtype: np.dtype) -> int:
    """The enum value for a NumPy dtype (bytes/str/object arrays are strings)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return 7
    for value, (name, dt) in _TABLE.items():
        if dt is not None and dt == dtype and not name.startswith("q"):
            return value
    raise ValueError(f"no TensorFlow dtype for NumPy dtype {dtype}")
