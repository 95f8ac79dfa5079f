"""Writer of the LevelDB-style sorted table that ``variables.index`` uses.

The mirror of ``table.py``: data blocks of prefix-compressed entries with a
restart point every ``restart_interval`` keys, an index block (one entry per
data block, restart interval 1, keyed by a short separator), an empty
metaindex block, and the 48-byte footer ending in the magic number. Blocks
are stored uncompressed (type 0), each followed by its masked CRC32C, which
is what TensorFlow's bundle writer produces too.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from sm_explorer.core.checksum import crc32c, extend, mask
from sm_explorer.core.sstable import FOOTER_SIZE, MAGIC

__all__ = ["build_table", "encode_varint", "BlockBuilder"]

DEFAULT_BLOCK_SIZE = 4096
DEFAULT_RESTART_INTERVAL = 16
_HANDLES_SIZE = FOOTER_SIZE - 8  # two block handles, zero-padded, then the magic


def encode_varint(value: int) -> bytes:
    """Little-endian base-128 encoding of a non-negative integer."""
    if value < 0:
        raise ValueError(f"cannot encode negative varint {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class BlockBuilder:
    """Accumulates sorted entries of one block; keys share prefixes between restarts."""

    def __init__(self, restart_interval: int = DEFAULT_RESTART_INTERVAL) -> None:
        if restart_interval < 1:
            raise ValueError("restart_interval must be at least 1")
        self.restart_interval = restart_interval
        self._buf = bytearray()
        self._restarts: list[int] = [0]
        self._count = 0  # entries since the last restart
        self._last = b""
        self.entries = 0

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self._count < self.restart_interval:
            limit = min(len(key), len(self._last))
            while shared < limit and key[shared] == self._last[shared]:
                shared += 1
        else:
            self._restarts.append(len(self._buf))
            self._count = 0
        self._buf += encode_varint(shared)
        self._buf += encode_varint(len(key) - shared)
        self._buf += encode_varint(len(value))
        self._buf += key[shared:]
        self._buf += value
        self._last = key
        self._count += 1
        self.entries += 1

    def size_estimate(self) -> int:
        return len(self._buf) + 4 * len(self._restarts) + 4

    def finish(self) -> bytes:
        """The block contents: entries, restart offsets, restart count."""
        tail = struct.pack(f"<{len(self._restarts)}I", *self._restarts)
        return bytes(self._buf) + tail + struct.pack("<I", len(self._restarts))


def _separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (LevelDB's index-key trick)."""
    common = 0
    end = min(len(start), len(limit))
    while common < end and start[common] == limit[common]:
        common += 1
    if common < end and start[common] < 0xFF and start[common] + 1 < limit[common]:
        return start[:common] + bytes([start[common] + 1])
    return start


def _successor(key: bytes) -> bytes:
    """A short key k >= ``key`` (used after the last block, where no limit exists)."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def _handle(offset: int, size: int) -> bytes:
    return encode_varint(offset) + encode_varint(size)


class _Output:
    """Appends blocks with their trailers and remembers where each landed."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def block(self, contents: bytes) -> bytes:
        crc = mask(extend(crc32c(contents), b"\x00"))
        self.parts += [contents, b"\x00", struct.pack("<I", crc)]
        handle = _handle(self.offset, len(contents))
        self.offset += len(contents) + 5
        return handle


def build_table(
    items: Iterable[tuple[bytes, bytes]],
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    restart_interval: int = DEFAULT_RESTART_INTERVAL,
) -> bytes:
    """The bytes of a table holding ``items``, whose keys must be strictly increasing."""
    out = _Output()
    index = BlockBuilder(restart_interval=1)
    block = BlockBuilder(restart_interval)
    pending: tuple[bytes, bytes] | None = None  # (last key, handle) awaiting the next key
    last: bytes | None = None
    for key, value in items:
        key, value = bytes(key), bytes(value)
        if last is not None and key <= last:
            raise ValueError(f"table keys must be strictly increasing: {key!r} after {last!r}")
        if pending is not None:
            index.add(_separator(pending[0], key), pending[1])
            pending = None
        block.add(key, value)
        last = key
        if block.size_estimate() >= block_size:
            pending = (key, out.block(block.finish()))
            block = BlockBuilder(restart_interval)
    if block.entries:
        pending = (last or b"", out.block(block.finish()))
    if pending is not None:
        index.add(_successor(pending[0]), pending[1])
    meta_handle = out.block(BlockBuilder().finish())
    index_handle = out.block(index.finish())
    handles = meta_handle + index_handle
    footer = handles + b"\x00" * (_HANDLES_SIZE - len(handles)) + struct.pack("<Q", MAGIC)
    return b"".join(out.parts) + footer
