"""Node attrs (AttrValue protos) decoded into the plain values kernels expect."""

from __future__ import annotations

from typing import Any

import numpy as np

from sm_explorer._proto import graph_pb2
from sm_explorer.core import dtypes
from sm_explorer.core.shapes import shape_of
from sm_explorer.core.tensors import to_numpy

__all__ = ["decode_attrs", "decode_attr", "numpy_type"]


def numpy_type(value: int) -> np.dtype:
    """A dtype enum as a NumPy dtype; resource and variant values travel as objects."""
    dt = dtypes.numpy_dtype(value)
    return dt if dt is not None else np.dtype(object)


def _text(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def decode_attr(value: graph_pb2.AttrValue, where: str = "attr") -> Any:
    kind = value.WhichOneof("value")
    if kind == "s":
        return _text(value.s)
    if kind in ("i", "f", "b"):
        return getattr(value, kind)
    if kind == "type":
        return numpy_type(value.type)
    if kind == "shape":
        return shape_of(value.shape)
    if kind == "tensor":
        return to_numpy(value.tensor, where)
    if kind == "func":
        return value.func.name
    if kind == "placeholder":
        return value.placeholder
    if kind == "list":
        items = value.list
        if items.s:
            return [_text(s) for s in items.s]
        if items.i:
            return list(items.i)
        if items.f:
            return list(items.f)
        if items.b:
            return list(items.b)
        if items.type:
            return [numpy_type(t) for t in items.type]
        if items.shape:
            return [shape_of(s) for s in items.shape]
        if items.tensor:
            return [to_numpy(t, where) for t in items.tensor]
        if items.func:
            return [f.name for f in items.func]
        return []
    return None


def decode_attrs(node: graph_pb2.NodeDef, where: str) -> dict[str, Any]:
    return {key: decode_attr(value, f"{where} attr {key!r}") for key, value in node.attr.items()}
