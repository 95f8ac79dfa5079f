"""Structural mutations of ``variables.index``: blocks, Snappy, trailers, handles, footer.

Each mutation breaks one thing and, most of the time, recomputes the
checksum of the block it touched: otherwise nearly every mutation would stop
at the CRC check and the code behind it would never see a broken block.
"""

from __future__ import annotations

import random
import struct
from dataclasses import replace
from typing import TYPE_CHECKING

import cramjam

from tests.fuzz.sstable import (
    FOOTER_SIZE,
    Block,
    Table,
    entries_of,
    from_entries,
    read_table,
    with_block,
    write_table,
)
from tests.fuzz.wire import decode_varint, encode_varint

if TYPE_CHECKING:
    from tests.fuzz.mutators import Files, Seed

__all__ = ["index_rel", "load_table", "relayout", "mangle_block", "mut_table", "U32S", "U64S"]

U32S = (0, 1, 2, 0x7F, 0x80, 0xFFFF, 2**30, 2**31 - 1, 2**31, 2**32 - 1)
U64S = (0, 1, 2**31, 2**32, 2**32 + 1, 2**40, 2**63 - 1, 2**63, 2**64 - 1)
_PARSE_ERRORS = (ValueError, IndexError, struct.error, cramjam.DecompressionError)


def index_rel(prefix: str) -> str:
    """Where the checkpoint index of the model at ``prefix`` is."""
    return f"{prefix}variables/variables.index"


def load_table(seed: Seed, files: Files, prefix: str) -> Table | None:
    """The model's index as a Table (None if there is none or an earlier mutation broke it)."""
    rel = index_rel(prefix)
    data = files.get(rel)
    if not isinstance(data, bytes):
        return None
    own = seed.files.get(rel) is data
    if own and ("table", rel) in seed.cache:
        return seed.cache[("table", rel)]  # type: ignore[return-value]
    try:
        table: Table | None = read_table(data)
    except _PARSE_ERRORS:
        table = None
    if own:
        seed.cache[("table", rel)] = table
    return table


def relayout(entries: list[tuple[bytes, bytes]], rng: random.Random) -> tuple[Table, str]:
    """A valid table of ``entries`` with a random layout: block size, restarts, Snappy."""
    block_size = rng.choice((1 << 20, 1 << 20, 4096, 256, 48))
    restarts = rng.choice((16, 16, 1, 2, 5))
    compress = rng.random() < 0.35
    table = from_entries(entries, block_size, restarts, compress)
    if rng.random() < 0.15:
        table = replace(table, index_kind=1)
    what = f"{len(table.data)} blocks, restart interval {restarts}, snappy={compress}, index kind {table.index_kind}"
    return table, what


def _entry_headers(contents: bytes) -> list[tuple[int, int, list[int]]]:
    """(start, end, [shared, unshared, value length]) of each entry header of a block."""
    (count,) = struct.unpack_from("<I", contents, len(contents) - 4)
    limit = len(contents) - 4 - 4 * count
    out, pos = [], 0
    while 0 <= pos < limit:
        start = pos
        values = []
        for _ in range(3):
            value, pos = decode_varint(contents, pos)
            values.append(value)
        out.append((start, pos, values))
        pos += values[1] + values[2]
    return out


def mangle_block(contents: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Break the inside of a block: restart count or offsets, an entry header, a byte."""
    if len(contents) < 4:
        return contents + rng.randbytes(3), "short block extended"
    (count,) = struct.unpack_from("<I", contents, len(contents) - 4)
    roll = rng.randrange(5)
    if roll == 0:
        new = rng.choice((*U32S, count + 1, len(contents) // 4, len(contents) // 4 - 1))
        return contents[:-4] + struct.pack("<I", new & 0xFFFFFFFF), f"restart count {count} -> {new}"
    if roll == 1 and 0 < count <= len(contents) // 4 - 1:
        k = rng.randrange(count)
        at = len(contents) - 4 - 4 * (count - k)
        new = rng.choice((*U32S, len(contents)))
        return contents[:at] + struct.pack("<I", new & 0xFFFFFFFF) + contents[at + 4 :], f"restart {k} -> {new}"
    if roll == 2:
        try:
            headers = _entry_headers(contents)
        except ValueError:
            headers = []
        if headers:
            start, end, values = rng.choice(headers)
            which = rng.randrange(3)
            values[which] = rng.choice((*U64S, values[which] + 1, max(values[which] - 1, 0), 255))
            header = b"".join(encode_varint(v) for v in values)
            name = ("shared", "unshared", "value length")[which]
            return contents[:start] + header + contents[end:], f"entry at {start}: {name} -> {values[which]}"
    if roll == 3:
        cut = rng.randrange(len(contents))
        return contents[:cut], f"block cut to {cut} bytes"
    k = rng.randrange(len(contents))
    return contents[:k] + bytes([contents[k] ^ (1 << rng.randrange(8))]) + contents[k + 1 :], f"bit flip at {k}"


def _snappy(block: Block, rng: random.Random) -> tuple[Block, str]:
    """A compressed block whose stream is broken: its length preamble, a byte, its end."""
    raw = bytes(cramjam.snappy.compress_raw(block.contents))
    claimed, body_at = decode_varint(raw, 0)
    roll = rng.randrange(4)
    if roll == 0:
        new = rng.choice((*U64S, claimed + 1, max(claimed - 1, 0), claimed * 33 + 64, claimed * 31))
        raw, what = encode_varint(new) + raw[body_at:], f"snappy preamble {claimed} -> {new}"
    elif roll == 1 and len(raw) > body_at:
        k = rng.randrange(body_at, len(raw))
        raw, what = raw[:k] + bytes([rng.randrange(256)]) + raw[k + 1 :], f"snappy byte {k} replaced"
    elif roll == 2:
        cut = rng.randrange(len(raw))
        raw, what = raw[:cut], f"snappy stream cut to {cut}"
    else:
        raw, what = raw + rng.randbytes(rng.randrange(1, 16)), "garbage after the snappy stream"
    old_crc = replace(block, kind=1).true_crc()
    fix = rng.random() < 0.85
    return Block(block.contents, 1, raw, None if fix else old_crc), f"{what}, crc {'fixed' if fix else 'stale'}"


def _trailer(block: Block, rng: random.Random) -> tuple[Block, str]:
    if rng.random() < 0.5:
        kind = rng.choice((0, 1, 2, 3, 0x7F, 0xFF))
        raw = block.contents if kind == 1 and rng.random() < 0.5 else None  # "compressed" but not
        fix = rng.random() < 0.6
        return Block(block.contents, kind, raw, None if fix else block.true_crc()), f"type byte -> {kind}"
    crc = block.true_crc()
    new = rng.choice((0, 0xFFFFFFFF, crc ^ (1 << rng.randrange(32)), rng.getrandbits(32)))
    return replace(block, crc=new), "crc replaced"


def _handles(handles: list[tuple[int, int]], rng: random.Random, notes: list[str]) -> list[tuple[int, int]]:
    out = list(handles)
    i = rng.randrange(len(out))
    offset, size = out[i]
    roll = rng.randrange(4)
    if roll == 0:
        new = rng.choice((*U64S, offset + 1, offset + size))
        out[i] = (new, size)
        notes.append(f"data block {i} offset {offset} -> {new}")
    elif roll == 1:
        new = rng.choice((*U64S, size + 1, max(size - 1, 0), size + 5, size * 2))
        out[i] = (offset, new)
        notes.append(f"data block {i} size {size} -> {new}")
    elif roll == 2:
        out.insert(i, out[i])
        notes.append(f"data block {i} listed twice")
    else:
        out[i] = out[rng.randrange(len(out))]
        notes.append(f"handle {i} points at another block")
    return out


def _footer(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    body, magic = data[:-FOOTER_SIZE], data[-8:]
    footer = data[-FOOTER_SIZE:-8]
    values, pos = [], 0
    for _ in range(4):
        value, pos = decode_varint(footer, pos)
        values.append(value)
    roll = rng.randrange(4)
    if roll == 0:
        k = rng.randrange(4)
        values[k] = rng.choice((*U64S, values[k] + 1, max(values[k] - 1, 0), len(data)))
        new = b"".join(encode_varint(v) for v in values).ljust(FOOTER_SIZE - 8, b"\x00")
        name = ("meta-index offset", "meta-index size", "index offset", "index size")[k]
        return body + new + magic, f"footer {name} -> {values[k]}"
    if roll == 1:
        return body + footer + bytes([magic[0] ^ 1]) + magic[1:], "magic number changed"
    if roll == 2:
        extra = rng.randbytes(rng.choice((1, 8, 48)))
        return extra + data, f"{len(extra)} bytes prepended (every offset is off)"
    return body + footer + magic + rng.randbytes(rng.randrange(1, 9)), "bytes after the footer"


def mut_table(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """One structural defect in the index file, everything else kept consistent."""
    table = load_table(seed, files, prefix)
    if table is None or not table.data:
        return None
    notes = []
    if rng.random() < 0.4:
        table, layout = relayout(entries_of(table), rng)
        notes.append(f"re-laid out as {layout}")
    i = rng.randrange(len(table.data))
    block = table.data[i]
    kind = rng.choice(("block", "block", "snappy", "trailer", "handles", "index", "footer"))
    handles_hook = index_hook = None
    if kind == "block":
        contents, what = mangle_block(block.contents, rng)
        fix = rng.random() < 0.75
        table = with_block(table, i, Block(contents, block.kind, None, None if fix else block.true_crc()))
        notes.append(f"data block {i}: {what}, crc {'fixed' if fix else 'stale'}")
    elif kind == "snappy":
        new_block, what = _snappy(block, rng)
        table = with_block(table, i, new_block)
        notes.append(f"data block {i}: {what}")
    elif kind == "trailer":
        new_block, what = _trailer(block, rng)
        table = with_block(table, i, new_block)
        notes.append(f"data block {i}: {what}")
    elif kind == "handles":
        def handles_hook(handles: list[tuple[int, int]]) -> list[tuple[int, int]]:
            return _handles(handles, rng, notes)
    elif kind == "index":
        def index_hook(index: Block) -> Block:
            if rng.random() < 0.3:
                new_block, what = _snappy(index, rng)
            else:
                contents, what = mangle_block(index.contents, rng)
                fix = rng.random() < 0.75
                new_block = Block(contents, index.kind, None, None if fix else index.true_crc())
            notes.append(f"index block: {what}")
            return new_block
    data = write_table(table, handles_hook, index_hook)
    if kind == "footer":
        data, what = _footer(data, rng)
        notes.append(what)
    files[index_rel(prefix)] = data
    return f"{index_rel(prefix)} (table): {'; '.join(notes)}"
