"""Decoding a string tensor stored in a checkpoint shard (pure Python).

Layout: one varint length per element, then a masked CRC32C of those lengths
(each as a little-endian uint32, or uint64 when it does not fit), then the
bytes of every element. The entry's own CRC covers the lengths (in that
fixed-width form), the length checksum, and the bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

from sm_explorer.core.checksum import extend, unmask
from sm_explorer.core.sstable import read_varint
from sm_explorer.errors import ChecksumError, FormatError, LimitError

if TYPE_CHECKING:
    from sm_explorer.core.bundle import Entry

__all__ = ["string_elements"]


def string_elements(view: memoryview, entry: Entry, path: Path) -> list[bytes]:
    """The elements of a string tensor, in order, after checking both CRCs."""
    count = entry.num_elements
    data = bytes(view)
    if count > len(data):  # every element needs at least one length byte
        raise LimitError(f"{entry.key!r} claims {count} strings in {len(data)} bytes", path)
    lengths = []
    pos = 0
    for _ in range(count):
        length, pos = read_varint(data, pos, len(data), path, f"the lengths of {entry.key!r}")
        if length > len(data):
            raise FormatError(f"a string of {entry.key!r} claims {length} bytes; the tensor has {len(data)}", path)
        lengths.append(length)
    fixed = b"".join(struct.pack("<I" if n <= 0xFFFFFFFF else "<Q", n) for n in lengths)
    crc = extend(0, fixed)
    if pos + 4 > len(data):
        raise FormatError(f"{entry.key!r} ends inside its length checksum", path)
    (stored,) = struct.unpack_from("<I", data, pos)
    if unmask(stored) != crc:
        raise ChecksumError(f"the length checksum of {entry.key!r} does not match", path)
    crc = extend(crc, data[pos : pos + 4])
    pos += 4
    if pos + sum(lengths) != len(data):
        raise FormatError(f"the string lengths of {entry.key!r} do not add up to its size", path)
    if extend(crc, data[pos:]) != unmask(entry.crc):
        raise ChecksumError(f"the checksum of {entry.key!r} does not match its bytes", path)
    out = []
    for length in lengths:
        out.append(data[pos : pos + length])
        pos += length
    return out
