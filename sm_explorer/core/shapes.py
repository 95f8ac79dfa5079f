"""Shapes as plain tuples: None for an unknown dim, None for an unknown rank."""

from __future__ import annotations

from sm_explorer._proto import types_pb2

__all__ = ["Shape", "shape_of"]

Shape = tuple[int | None, ...] | None


def shape_of(proto: types_pb2.TensorShapeProto) -> Shape:
    """A shape as a tuple (None for an unknown dim), or None for unknown rank."""
    if proto.unknown_rank:
        return None
    return tuple(d.size if d.size >= 0 else None for d in proto.dim)
