"""TensorFlow's DataType enum, mapped to Python names and NumPy dtypes.

NumPy is imported only when a NumPy dtype is asked for, so that reading
metadata (``sm-explorer show``) does not pay for importing it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["dtype_name", "numpy_dtype", "REF_OFFSET", "dtype_from_name", "from_numpy"]

REF_OFFSET = 100  # DT_FLOAT_REF == DT_FLOAT + 100, and so on

# enum value -> (TF python name, NumPy type name; "ml:" names come from ml_dtypes;
# None when values are not plain arrays)
_TABLE: dict[int, tuple[str, str | None]] = {
    1: ("float32", "float32"),
    2: ("float64", "float64"),
    3: ("int32", "int32"),
    4: ("uint8", "uint8"),
    5: ("int16", "int16"),
    6: ("int8", "int8"),
    7: ("string", "object"),
    8: ("complex64", "complex64"),
    9: ("int64", "int64"),
    10: ("bool", "bool"),
    11: ("qint8", "int8"),
    12: ("quint8", "uint8"),
    13: ("qint32", "int32"),
    14: ("bfloat16", "ml:bfloat16"),
    15: ("qint16", "int16"),
    16: ("quint16", "uint16"),
    17: ("uint16", "uint16"),
    18: ("complex128", "complex128"),
    19: ("float16", "float16"),
    20: ("resource", None),
    21: ("variant", None),
    22: ("uint32", "uint32"),
    23: ("uint64", "uint64"),
    24: ("float8_e5m2", "ml:float8_e5m2"),
    25: ("float8_e4m3fn", "ml:float8_e4m3fn"),
    26: ("float8_e4m3fnuz", "ml:float8_e4m3fnuz"),
    27: ("float8_e4m3b11fnuz", "ml:float8_e4m3b11fnuz"),
    28: ("float8_e5m2fnuz", "ml:float8_e5m2fnuz"),
    # Sub-byte types are stored one element per byte in checkpoints.
    29: ("int4", "ml:int4"),
    30: ("uint4", "ml:uint4"),
    31: ("int2", "ml:int2"),
    32: ("uint2", "ml:uint2"),
    33: ("float4_e2m1fn", "ml:float4_e2m1fn"),
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


@cache
def _resolve(name: str) -> np.dtype | None:
    import numpy

    if not name.startswith("ml:"):
        return numpy.dtype(name)
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes is a dependency
        return None
    kind = getattr(ml_dtypes, name[3:], None)
    return numpy.dtype(kind) if kind is not None else None


def numpy_dtype(value: int) -> np.dtype | None:
    """The NumPy dtype that holds values of this type (object for strings), or None."""
    base, _ = _base(value)
    entry = _TABLE.get(base)
    return _resolve(entry[1]) if entry and entry[1] else None


def dtype_from_name(name: str) -> int:
    """The enum value for a TF Python dtype name; lists the valid names otherwise."""
    base = name.removesuffix("_ref")
    if base not in _BY_NAME:
        raise ValueError(f"unknown dtype {name!r}; valid: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[base] + (REF_OFFSET if name.endswith("_ref") else 0)


def from_numpy(dtype: np.dtype) -> int:
    """The enum value for a NumPy dtype (bytes/str/object arrays are strings)."""
    import numpy

    dtype = numpy.dtype(dtype)
    if dtype.kind in "OSU":
        return 7
    for value, (name, np_name) in _TABLE.items():
        if np_name and not name.startswith("q") and _resolve(np_name) == dtype:
            return value
    raise ValueError(f"no TensorFlow dtype for NumPy dtype {dtype}")
