"""CRC32C as TensorFlow stores it: "masked" so that a CRC of data that itself
contains CRCs does not look like a valid CRC."""

from __future__ import annotations

import google_crc32c

__all__ = ["crc32c", "extend", "mask", "unmask"]

_MASK_DELTA = 0xA282EAD8
_CHUNK = 1 << 22  # google_crc32c takes only bytes: copy big buffers 4 MiB at a time


def extend(crc: int, data: bytes | memoryview | bytearray) -> int:
    """Extend ``crc`` over ``data`` without copying all of a large buffer at once."""
    if isinstance(data, bytes):
        return google_crc32c.extend(crc, data)
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _CHUNK):
        crc = google_crc32c.extend(crc, view[start : start + _CHUNK].tobytes())
    return crc


def crc32c(data: bytes | memoryview | bytearray) -> int:
    return extend(0, data)


def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
