"""The sorted-table format of ``variables.index``, written by the harness itself.

The fuzzer needs to produce tables that are valid except for one chosen
defect, so it keeps a table as blocks (uncompressed contents + how they are
stored) and writes them back with every handle, restart array and CRC
recomputed, unless a mutation says otherwise. Independent of
``sm_explorer.core.sstable`` on purpose: the harness must not share the bugs of
the code it tests.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace

import cramjam
import google_crc32c

from tests.fuzz.wire import decode_varint, encode_varint

__all__ = [
    "Block", "Table", "build_block", "block_entries", "read_table", "write_table",
    "from_entries", "entries_of", "with_block", "mask", "crc32c", "MAGIC", "FOOTER_SIZE",
]

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
Handle = tuple[int, int]


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC32C of ``data``, extending ``crc``."""
    return google_crc32c.extend(crc, bytes(data))


def mask(crc: int) -> int:
    """TensorFlow's CRC masking (so CRCs of data holding CRCs look random)."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@dataclass(frozen=True)
class Block:
    """One stored block. ``raw`` and ``crc`` are set only by mutations that
    want bytes or a checksum other than the ones ``contents`` and ``kind`` imply."""

    contents: bytes
    kind: int = 0
    raw: bytes | None = None
    crc: int | None = None

    def stored(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.kind == 1:
            return bytes(cramjam.snappy.compress_raw(self.contents))
        return self.contents

    def true_crc(self) -> int:
        """The masked CRC a correct trailer holds for these stored bytes and kind."""
        return mask(crc32c(bytes([self.kind & 0xFF]), crc32c(self.stored())))

    def trailer(self, stored: bytes) -> bytes:
        crc = mask(crc32c(bytes([self.kind & 0xFF]), crc32c(stored))) if self.crc is None else self.crc
        return bytes([self.kind & 0xFF]) + struct.pack("<I", crc & 0xFFFFFFFF)


@dataclass(frozen=True)
class Table:
    """Data blocks with their index keys; index and meta-index blocks are rebuilt on write."""

    data: tuple[Block, ...]
    keys: tuple[bytes, ...]
    index_kind: int = 0


def build_block(entries: list[tuple[bytes, bytes]], restart_interval: int = 16) -> bytes:
    """Prefix-compressed entries followed by the restart array and its count."""
    out = bytearray()
    restarts = []
    last = b""
    for n, (key, value) in enumerate(entries):
        shared = 0
        if n % restart_interval == 0:
            restarts.append(len(out))
        else:
            limit = min(len(key), len(last))
            while shared < limit and key[shared] == last[shared]:
                shared += 1
        out += encode_varint(shared) + encode_varint(len(key) - shared) + encode_varint(len(value))
        out += key[shared:] + value
        last = key
    if not restarts:
        restarts.append(0)
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def block_entries(contents: bytes) -> list[tuple[bytes, bytes]]:
    """The entries of well-formed block contents (ValueError otherwise)."""
    if len(contents) < 4:
        raise ValueError("short block")
    (count,) = struct.unpack_from("<I", contents, len(contents) - 4)
    limit = len(contents) - 4 - 4 * count
    if limit < 0:
        raise ValueError("bad restart count")
    out, pos, key = [], 0, b""
    while pos < limit:
        shared, pos = decode_varint(contents, pos)
        unshared, pos = decode_varint(contents, pos)
        size, pos = decode_varint(contents, pos)
        if shared > len(key) or pos + unshared + size > limit:
            raise ValueError("entry runs past the block")
        key = key[:shared] + contents[pos : pos + unshared]
        pos += unshared
        out.append((key, contents[pos : pos + size]))
        pos += size
    return out


def _read_block(buf: bytes, handle: Handle) -> Block:
    offset, size = handle
    stored = buf[offset : offset + size]
    kind = buf[offset + size]
    if kind != 1:
        return Block(stored, kind)
    # cramjam aborts the process (not an exception) when it cannot allocate
    # what the preamble claims: refuse what Snappy cannot produce first.
    claimed, _ = decode_varint(stored, 0)
    if claimed > 32 * len(stored) + 64:
        raise ValueError("snappy preamble claims too much")
    return Block(bytes(cramjam.snappy.decompress_raw(stored)), kind)


def _handle(buf: bytes, pos: int) -> tuple[Handle, int]:
    offset, pos = decode_varint(buf, pos)
    size, pos = decode_varint(buf, pos)
    return (offset, size), pos


def read_table(buf: bytes) -> Table:
    """Split a well-formed table file into its blocks (ValueError if it is not one)."""
    if len(buf) < FOOTER_SIZE or struct.unpack_from("<Q", buf, len(buf) - 8)[0] != MAGIC:
        raise ValueError("not a table")
    _, pos = _handle(buf, len(buf) - FOOTER_SIZE)
    index_handle, _ = _handle(buf, pos)
    index = _read_block(buf, index_handle)
    blocks, keys = [], []
    for key, value in block_entries(index.contents):
        handle, _ = _handle(value, 0)
        block = _read_block(buf, handle)
        block_entries(block.contents)  # well-formed, or ValueError
        blocks.append(block)
        keys.append(key)
    return Table(tuple(blocks), tuple(keys), index.kind)


def from_entries(
    entries: list[tuple[bytes, bytes]], block_size: int = 1 << 20, restart_interval: int = 16,
    compress: bool = False,
) -> Table:
    """A fresh table holding ``entries`` in the given order (sorted or not)."""
    blocks, keys, current, size = [], [], [], 0
    for key, value in entries:
        current.append((key, value))
        size += len(key) + len(value) + 3
        if size >= block_size:
            blocks.append(Block(build_block(current, restart_interval), 1 if compress else 0))
            keys.append(key)
            current, size = [], 0
    if current or not blocks:
        blocks.append(Block(build_block(current, restart_interval), 1 if compress else 0))
        keys.append(current[-1][0] if current else b"")
    return Table(tuple(blocks), tuple(keys))


def write_table(
    table: Table,
    handles_hook: Callable[[list[Handle]], list[Handle]] | None = None,
    index_hook: Callable[[Block], Block] | None = None,
) -> bytes:
    """The file bytes of ``table``. Hooks may lie about data-block handles or
    mangle the index block (its CRC is recomputed unless the hook sets one)."""
    out = bytearray()
    handles: list[Handle] = []
    for block in table.data:
        stored = block.stored()
        handles.append((len(out), len(stored)))
        out += stored + block.trailer(stored)
    if handles_hook is not None:
        handles = handles_hook(handles)
    meta = Block(build_block([]))
    meta_handle = (len(out), len(meta.contents))
    out += meta.contents + meta.trailer(meta.contents)
    index_entries = [(key, encode_varint(o) + encode_varint(s)) for key, (o, s) in zip(table.keys, handles)]
    index = Block(build_block(index_entries, 1), table.index_kind)
    if index_hook is not None:
        index = index_hook(index)
    stored = index.stored()
    index_handle = (len(out), len(stored))
    out += stored + index.trailer(stored)
    footer = b"".join(encode_varint(v) for v in (*meta_handle, *index_handle))
    out += footer.ljust(FOOTER_SIZE - 8, b"\x00") + struct.pack("<Q", MAGIC)
    return bytes(out)


def entries_of(table: Table) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of the table, in stored order."""
    return [e for block in table.data for e in block_entries(block.contents)]


def with_block(table: Table, i: int, block: Block) -> Table:
    """The table with data block ``i`` replaced (tables are immutable: seeds are cached)."""
    data = list(table.data)
    data[i] = block
    return replace(table, data=tuple(data))
