"""Partitioned variables: decoding slice keys and assembling the full value.

A partitioned variable's index entry lists its slices; each slice is stored
under its own key, which spells (name, extents) in TensorFlow's "ordered
code": a 0 byte, the escaped name ending in 00 01, the number of dims, then
a signed start and length per dim (length -1 meaning "the whole dim").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sm_explorer.errors import FormatError

__all__ = ["decode_slice_key", "assemble"]

Extent = tuple[int, int | None]


def _unsigned(buf: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(buf) or buf[pos] > 8 or pos + 1 + buf[pos] > len(buf):
        raise ValueError("bad number")
    n = buf[pos]
    return int.from_bytes(buf[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def _leading_ones(byte: int) -> int:
    count = 0
    while count < 8 and byte & (0x80 >> count):
        count += 1
    return count


def _signed(buf: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(buf):
        raise ValueError("bad number")
    negative = buf[pos] < 0x80
    flip = 0xFF if negative else 0
    length = _leading_ones(buf[pos] ^ flip)
    if length == 8:
        if pos + 1 >= len(buf):
            raise ValueError("bad number")
        length += _leading_ones(buf[pos + 1] ^ flip)
    if length == 0 or length > 10 or pos + length > len(buf):
        raise ValueError("bad number")
    raw = int.from_bytes(buf[pos : pos + length], "big")
    bits = 8 * length
    value = raw ^ (((1 << length) - 1) << (bits - length))
    if negative:
        value -= 1 << bits
    return value, pos + length


def _string(buf: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while pos + 1 < len(buf):
        byte = buf[pos]
        if byte == 0x00:
            if buf[pos + 1] == 0x01:
                return bytes(out), pos + 2
            if buf[pos + 1] != 0xFF:
                raise ValueError("bad escape")
            out.append(0x00)
            pos += 2
        elif byte == 0xFF:
            if buf[pos + 1] != 0x00:
                raise ValueError("bad escape")
            out.append(0xFF)
            pos += 2
        else:
            out.append(byte)
            pos += 1
    raise ValueError("unterminated name")


def decode_slice_key(key: bytes) -> tuple[str, tuple[Extent, ...]] | None:
    """(tensor name, ((start, length or None), ...)) or None if not a slice key."""
    try:
        zero, pos = _unsigned(key, 0)
        if zero != 0:
            return None
        name, pos = _string(key, pos)
        dims, pos = _unsigned(key, pos)
        if dims > 64:
            return None
        extents = []
        for _ in range(dims):
            start, pos = _signed(key, pos)
            length, pos = _signed(key, pos)
            extents.append((start, None if length == -1 else length))
        if pos != len(key):
            return None
        return name.decode("utf-8", "backslashreplace"), tuple(extents)
    except ValueError:
        return None


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
