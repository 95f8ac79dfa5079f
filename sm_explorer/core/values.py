"""Decoding one checkpoint tensor's bytes into a NumPy array, checking its CRC.

Numeric tensors are zero-copy views of the memory-mapped shard. String
tensors are decoded by ``strings.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sm_explorer.core.checksum import extend, unmask
from sm_explorer.core.slices import Extent
from sm_explorer.core.strings import string_elements
from sm_explorer.errors import ChecksumError, FormatError

if TYPE_CHECKING:
    from sm_explorer.core.bundle import Entry

__all__ = ["decode", "assemble"]


def decode(view: memoryview, entry: Entry, dt: np.dtype, big_endian: bool, path: Path) -> np.ndarray:
    """The value held by ``view`` (exactly the entry's bytes)."""
    key = entry.key
    if dt.kind == "O":
        items = string_elements(view, entry, path)  # checks the count against the bytes first
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(entry.shape)
    if entry.num_elements * dt.itemsize != entry.size:
        raise FormatError(
            f"{key!r} has {entry.size} bytes but shape {list(entry.shape)} of "
            f"{entry.dtype_name} needs {entry.num_elements * dt.itemsize}", path,
        )
    if extend(0, view) != unmask(entry.crc):
        raise ChecksumError(f"the checksum of {key!r} does not match its bytes", path)
    value = np.frombuffer(view, dtype=dt).reshape(entry.shape)
    if big_endian and dt.itemsize > 1:
        value = value.byteswap()
    return value


def _normal(extents: tuple[Extent, ...], shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(
        (start if length is not None else 0, length if length is not None else dim)
        for (start, length), dim in zip(extents, shape)
    )


def assemble(
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    slices: tuple[tuple[Extent, ...], ...],
    pieces: dict[tuple[Extent, ...], bytes],
    read_piece: Callable[[bytes], np.ndarray],
    path: str,
) -> np.ndarray:
    """Copy every slice into a full array; the slices must tile it exactly."""
    keys = {_normal(ext, shape): key for ext, key in pieces.items() if len(ext) == len(shape)}
    total = 0
    regions = []
    for extents in slices:
        norm = _normal(extents, shape)
        if len(norm) != len(shape) or any(s < 0 or n < 0 or s + n > d for (s, n), d in zip(norm, shape)):
            raise FormatError(f"{name!r} has a slice outside its shape {list(shape)}", path)
        if norm not in keys:
            raise FormatError(f"{name!r} lists a slice {list(norm)} that is not in the index", path)
        regions.append((norm, keys[norm]))
        total += int(np.prod([n for _, n in norm], dtype=object))
    full = int(np.prod(shape, dtype=object)) if shape else 1
    if total != full:
        raise FormatError(f"the slices of {name!r} cover {total} of its {full} elements", path)
    out = np.empty(shape, dtype=dtype)
    for norm, key in regions:
        piece = read_piece(key)
        want = tuple(n for _, n in norm)
        if piece.shape != want:
            raise FormatError(f"a slice of {name!r} has shape {list(piece.shape)}, not {list(want)}", path)
        out[tuple(slice(s, s + n) for s, n in norm)] = piece
    return out
