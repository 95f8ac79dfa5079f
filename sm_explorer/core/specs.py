"""Specs: what a function's inputs and outputs look like (dtype, shape, name).

``decode`` turns a StructuredValue (how SavedModels describe nested Python
arguments) into plain Python: tuples, lists, dicts and TensorSpec leaves.
"""

from __future__ import annotations

import collections
import keyword
from dataclasses import dataclass
from typing import Any

from sm_explorer._proto import objects_pb2, saved_model_pb2
from sm_explorer.core import dtypes
from sm_explorer.core.shapes import Shape, shape_of

__all__ = ["TensorSpec", "TypeSpec", "decode", "from_tensor_info", "flatten"]


@dataclass(frozen=True)
class TensorSpec:
    """One tensor input or output: its dtype name, shape, and (graph) name."""

    dtype: str
    shape: Shape
    name: str | None = None

    def __repr__(self) -> str:
        shape = "<unknown>" if self.shape is None else tuple(self.shape)
        return f"TensorSpec(shape={shape}, dtype={self.dtype}, name={self.name!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "shape": None if self.shape is None else list(self.shape),
            "name": self.name,
        }


@dataclass(frozen=True)
class TypeSpec:
    """A composite value (ragged, sparse, a variable...) described by class name."""

    type_name: str
    state: Any = None


def from_tensor_info(info: saved_model_pb2.TensorInfo) -> TensorSpec:
    """A signature input/output. Sparse and composite tensors keep their first name."""
    encoding = info.WhichOneof("encoding")
    if encoding == "coo_sparse":
        name = info.coo_sparse.values_tensor_name
    elif encoding == "composite_tensor":
        name = None
    else:
        name = info.name
    return TensorSpec(dtypes.dtype_name(info.dtype), shape_of(info.tensor_shape), name or None)


def decode(value: objects_pb2.StructuredValue) -> Any:
    """A StructuredValue as plain Python (depth is bounded by protobuf's parser)."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "none_value":
        return None
    if kind in ("float64_value", "int64_value", "string_value", "bool_value"):
        return getattr(value, kind)
    if kind == "tensor_shape_value":
        return shape_of(value.tensor_shape_value)
    if kind == "tensor_dtype_value":
        return dtypes.dtype_name(value.tensor_dtype_value)
    if kind in ("tensor_spec_value", "bounded_tensor_spec_value"):
        spec = getattr(value, kind)
        return TensorSpec(dtypes.dtype_name(spec.dtype), shape_of(spec.shape), spec.name or None)
    if kind == "type_spec_value":
        spec = value.type_spec_value
        classes = objects_pb2.TypeSpecProto.TypeSpecClass
        if spec.type_spec_class_name:
            name = spec.type_spec_class_name
        elif spec.type_spec_class in classes.values():
            name = classes.Name(spec.type_spec_class)
        else:
            name = f"type_spec_{spec.type_spec_class}"
        return TypeSpec(name, decode(spec.type_state))
    if kind == "list_value":
        return [decode(v) for v in value.list_value.values]
    if kind == "tuple_value":
        return tuple(decode(v) for v in value.tuple_value.values)
    if kind == "dict_value":
        return {k: decode(v) for k, v in sorted(value.dict_value.fields.items())}
    if kind == "named_tuple_value":
        pairs = [(p.key, decode(p.value)) for p in value.named_tuple_value.values]
        keys = [k for k, _ in pairs]
        name = value.named_tuple_value.name or "NamedTuple"
        usable = [name, *keys]
        if all(k.isidentifier() and not keyword.iskeyword(k) for k in usable) and len(set(keys)) == len(keys):
            try:
                cls = collections.namedtuple(name, keys)  # type: ignore[misc]
                return cls(*(v for _, v in pairs))
            except ValueError:  # e.g. fields starting with "_"
                pass
        return dict(pairs)  # names no Python class could have: keep the pairs
    if kind in ("tensor_value", "numpy_value"):
        from sm_explorer.core.tensors import to_numpy  # NumPy only when a constant is decoded

        return to_numpy(getattr(value, kind), "a constant in a function signature")
    return None


def flatten(structure: Any) -> list[Any]:
    """Leaves of a nested structure in TF's order (dicts by sorted key)."""
    out: list[Any] = []
    stack = [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed([item[k] for k in sorted(item)]))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out
