"""Tensor-bundle-aware mutations: index entries, the header, keys, and data shards.

The index is always rewritten as a valid table (random layout) so that a
broken entry reaches the code that interprets it. Tensor bytes that change
get their CRCs recomputed most of the time, for the same reason.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.fuzz.sstable import crc32c, entries_of, mask, write_table
from tests.fuzz.table_mutators import index_rel, load_table, relayout
from tests.fuzz.wire import (
    I32,
    LEN,
    VARINT,
    Field,
    decode_varint,
    encode_varint,
    mutate_message,
    parse,
    serialize,
)

if TYPE_CHECKING:
    from tests.fuzz.mutators import Files, Seed

__all__ = ["mut_bundle", "mut_shard", "encode_strings", "decode_strings", "slice_key"]

OBJECT_GRAPH = b"_CHECKPOINTABLE_OBJECT_GRAPH"
ITEMSIZE = {1: 4, 2: 8, 3: 4, 4: 1, 5: 2, 6: 1, 9: 8, 10: 1, 14: 2, 17: 2, 19: 2, 22: 4, 23: 8}
DTYPES = (0, 1, 2, 3, 7, 8, 10, 14, 18, 19, 20, 21, 24, 25, 29, 101, 107, 200, -1, 2**31 - 1)
SHAPES = (
    [10**6, 10**6], [10**12], [-1], [2, -3], [0], [2**62, 4], [2**31, 2**31, 2**31], [1] * 40,
    [], [2**63 - 1], [3, 0, 10**9], [1] * 65, [2] * 64,
)
EXTENTS = (0, 1, -1, 2, 2**31, 2**62, -(2**63), 10**12)


def _get(fields: list[Field], number: int, default: int = 0) -> int:
    values = [f.value for f in fields if f.number == number and f.wire != LEN]
    return int(values[-1]) if values else default


def _set(fields: list[Field], number: int, wire: int, value: int | bytes) -> list[Field]:
    return [f for f in fields if f.number != number] + [Field(number, wire, value)]


def _dims(entry: list[Field]) -> list[int]:
    shapes = [f for f in entry if f.number == 2 and f.wire == LEN]
    out = []
    for dim in (parse(shapes[-1].value) or []) if shapes else []:  # type: ignore[arg-type]
        if dim.number == 2 and dim.wire == LEN:
            out.append(_get(parse(dim.value) or [], 1))  # type: ignore[arg-type]
    return out


def _shape(dims: list[int], unknown_rank: bool = False) -> bytes:
    fields = [Field(2, LEN, serialize([Field(1, VARINT, d)])) for d in dims]
    return serialize(fields + ([Field(3, VARINT, 1)] if unknown_rank else []))


def _ordered_signed(value: int) -> bytes:
    """TensorFlow's "ordered code" for a signed number (as in slice keys)."""
    for length in range(1, 11):
        bits = 8 * length
        if -(2 ** (7 * length - 1)) <= value < 2 ** (7 * length - 1):
            marker = ((1 << length) - 1) << (bits - length)
            raw = value | marker if value >= 0 else (value + (1 << bits)) ^ marker
            return raw.to_bytes(length, "big")
    raise ValueError(value)


def slice_key(name: bytes, extents: list[tuple[int, int]]) -> bytes:
    """The index key TensorFlow stores one slice of a partitioned variable under."""
    escaped = name.replace(b"\xff", b"\xff\x00").replace(b"\x00", b"\x00\xff")
    out = b"\x00" + escaped + b"\x00\x01" + bytes([1, len(extents)])
    return out + b"".join(_ordered_signed(s) + _ordered_signed(n) for s, n in extents)


def encode_strings(elements: list[bytes]) -> tuple[bytes, int]:
    """A string tensor's bytes (lengths, their CRC, the data) and its masked entry CRC."""
    lengths = b"".join(encode_varint(len(e)) for e in elements)
    fixed = b"".join(len(e).to_bytes(4 if len(e) <= 0xFFFFFFFF else 8, "little") for e in elements)
    length_crc = mask(crc32c(fixed)).to_bytes(4, "little")
    body = b"".join(elements)
    return lengths + length_crc + body, mask(crc32c(body, crc32c(length_crc, crc32c(fixed))))


def decode_strings(data: bytes, count: int) -> list[bytes] | None:
    """The elements of a well-formed string tensor (None if it is not one)."""
    if count > len(data):
        return None
    lengths, pos = [], 0
    try:
        for _ in range(count):
            n, pos = decode_varint(data, pos)
            lengths.append(n)
    except ValueError:
        return None
    pos += 4
    if pos + sum(lengths) != len(data):
        return None
    out = []
    for n in lengths:
        out.append(data[pos : pos + n])
        pos += n
    return out


class _Bundle:
    """The index's entries (parsed) and the shard files, ready to be changed."""

    def __init__(self, seed: Seed, files: Files, prefix: str) -> None:
        self.files, self.prefix = files, prefix
        table = load_table(seed, files, prefix)
        self.entries: list[tuple[bytes, bytes]] = entries_of(table) if table else []
        header = parse(self.entries[0][1]) if self.entries and self.entries[0][0] == b"" else None
        self.num_shards = _get(header or [], 1, 1)

    def tensors(self, pred: Callable[[list[Field]], bool] | None = None) -> list[int]:
        """Indices of entries that parse, optionally filtered by ``pred(fields)``."""
        out = []
        for i, (key, value) in enumerate(self.entries):
            fields = parse(value) if key else None
            if fields is not None and (pred is None or pred(fields)):
                out.append(i)
        return out

    def shard_rel(self, shard: int) -> str:
        return f"{self.prefix}variables/variables.data-{shard:05d}-of-{self.num_shards:05d}"

    def span(self, i: int) -> tuple[str, int, int] | None:
        """(shard file, offset, size) of entry ``i`` when they lie inside an existing shard."""
        fields = parse(self.entries[i][1]) or []
        rel = self.shard_rel(_get(fields, 3))
        data = self.files.get(rel)
        offset, size = _get(fields, 4), _get(fields, 5)
        if not isinstance(data, bytes) or offset + size > len(data):
            return None
        return rel, offset, size

    def set_entry(self, i: int, fields: list[Field]) -> None:
        self.entries[i] = (self.entries[i][0], serialize(fields))

    def append_tensor(self, i: int, data: bytes, crc: int) -> None:
        """Store ``data`` at the end of entry ``i``'s shard and point the entry at it."""
        fields = parse(self.entries[i][1]) or []
        rel = self.shard_rel(_get(fields, 3))
        old = self.files.get(rel)
        old = old if isinstance(old, bytes) else b""
        self.files[rel] = old + data
        fields = _set(_set(_set(fields, 4, VARINT, len(old)), 5, VARINT, len(data)), 6, I32, crc)
        self.set_entry(i, fields)

    def commit(self, rng: random.Random, keep_order: bool = False) -> str:
        entries = self.entries if keep_order else sorted(self.entries, key=lambda e: e[0])
        table, what = relayout(entries, rng)
        self.files[index_rel(self.prefix)] = write_table(table)
        return what


def _entry_field(b: _Bundle, i: int, rng: random.Random) -> str:
    """Set one field of entry ``i`` to a value chosen to break what reads it."""
    fields = parse(b.entries[i][1]) or []
    which = rng.choice(("dtype", "shard", "offset", "size", "crc", "shape", "shape+size", "slices"))
    if which == "dtype":
        new = rng.choice(DTYPES)
        fields = _set(fields, 1, VARINT, new)
    elif which == "shard":
        new = rng.choice((b.num_shards, b.num_shards + 1, -1, 2**31 - 1, 1))
        fields = _set(fields, 3, VARINT, new)
    elif which in ("offset", "size"):
        number, old = (4, _get(fields, 4)) if which == "offset" else (5, _get(fields, 5))
        new = rng.choice((0, old + 1, max(old - 1, 0), -1, 2**31, 2**63 - 1, old + 10**6, 10**12))
        fields = _set(fields, number, VARINT, new)
    elif which == "crc":
        new = rng.getrandbits(32)
        fields = _set(fields, 6, I32, new)
    elif which == "slices":
        rank = rng.choice((len(_dims(fields)), 0, 1, 3))
        extents = [
            serialize([Field(1, VARINT, rng.choice(EXTENTS))] + ([Field(2, VARINT, rng.choice(EXTENTS))]
                      if rng.random() < 0.7 else []))
            for _ in range(rank)
        ]
        new = serialize([Field(1, LEN, e) for e in extents])
        fields = fields + [Field(7, LEN, new)]
    else:
        new = rng.choice(SHAPES)
        fields = _set(fields, 2, LEN, _shape(new, unknown_rank=rng.random() < 0.1))
        if which == "shape+size":  # a size that agrees with the shape passes the size check
            count = 1
            for d in new:
                count *= d
            fields = _set(fields, 5, VARINT, count * ITEMSIZE.get(_get(fields, 1), 4))
    b.set_entry(i, fields)
    return f"entry {b.entries[i][0][:60]!r}: {which} -> {new!r:.60}"


def _keys(b: _Bundle, rng: random.Random) -> tuple[str, bool]:
    """Add, drop, repeat or reorder keys; returns (what, keep the order as is)."""
    n = len(b.entries)
    roll = rng.randrange(8)
    if roll == 0 and n:
        key = b.entries.pop(0 if rng.random() < 0.5 else rng.randrange(n))[0]
        return f"entry {key[:60]!r} removed", False
    if roll == 1 and n:
        i = rng.randrange(n)
        b.entries.insert(i, b.entries[i])
        return f"entry {b.entries[i][0][:60]!r} listed twice", True
    if roll == 2 and n > 1:
        i, j = rng.sample(range(n), 2)
        b.entries[i], b.entries[j] = b.entries[j], b.entries[i]
        return "two entries out of order", True
    if roll == 3:
        b.entries.append((rng.randbytes(rng.randrange(1, 20)), rng.randbytes(rng.randrange(0, 40))))
        return "random key with a random value added", False
    if roll == 4 and n > 1:
        i = rng.randrange(1, n)
        b.entries[i] = (b.entries[i][0] + rng.choice((b"\xff\xfe", b"\x00", b"/x")), b.entries[i][1])
        return "a key renamed", False
    if roll == 5:
        victims = b.tensors()
        key = b.entries[rng.choice(victims)][0] if victims else b"v"
        extents = [(rng.choice(EXTENTS), rng.choice(EXTENTS)) for _ in range(rng.choice((0, 1, 2, 65)))]
        value = b.entries[victims[0]][1] if victims else b""
        b.entries.append((slice_key(key, extents), value))
        return f"slice key for {key[:40]!r} with extents {extents[:3]}", False
    if roll == 6 and n > 1:
        i = rng.randrange(1, n)
        old = b.entries[i][0]
        key = old[: rng.randrange(len(old) + 1)] if old.startswith(b"\x00") else b"\x00" + old
        b.entries[i] = (key, b.entries[i][1])
        return f"key {old[:40]!r} -> {key[:40]!r}", False
    b.entries = [e for e in b.entries if e[0] != OBJECT_GRAPH] + [(OBJECT_GRAPH, b.entries[-1][1] if n else b"")]
    return "object graph key points at another entry", False


def mut_bundle(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """One semantic defect in the index: an entry, the header or the keys."""
    b = _Bundle(seed, files, prefix)
    if not b.entries:
        return None
    tensors = b.tensors()
    roll = rng.random()
    keep_order = False
    if roll < 0.45 and tensors:
        what = _entry_field(b, rng.choice(tensors), rng)
    elif roll < 0.6 and tensors:
        i = rng.choice(tensors)
        data, change = mutate_message(parse(b.entries[i][1]) or [], rng)
        b.entries[i] = (b.entries[i][0], data)
        what = f"entry {b.entries[i][0][:60]!r} (protobuf) {change}"
    elif roll < 0.75 and b.entries[0][0] == b"":
        header = parse(b.entries[0][1]) or []
        if rng.random() < 0.7:
            number = rng.choice((1, 1, 2))
            if number == 1:
                new = rng.choice((0, -1, 2, b.num_shards + 1, 2**20, 2**20 + 1, 2**31 - 1, 1))
            else:  # 1 = big-endian: every value must then be byte-swapped
                new = rng.choice((1, 1, 2, -1))
            data, what = serialize(_set(header, number, VARINT, new)), f"header field {number} -> {new}"
        else:
            data, what = mutate_message(header, rng)
            what = f"header (protobuf) {what}"
        b.entries[0] = (b"", data)
    elif roll < 0.92:
        what, keep_order = _keys(b, rng)
    else:
        what = "index rewritten (valid)"
    layout = b.commit(rng, keep_order)
    return f"{index_rel(prefix)} (bundle): {what}; index as {layout}"


def _is_string(fields: list[Field]) -> bool:
    return _get(fields, 1) == 7 and not any(f.number == 7 for f in fields)


def mut_shard(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """Change tensor bytes in the data shards, fixing the CRCs most of the time."""
    b = _Bundle(seed, files, prefix)
    roll = rng.random()
    graph = [i for i, (k, _) in enumerate(b.entries) if k == OBJECT_GRAPH]
    strings = b.tensors(_is_string)
    if roll < 0.25 and graph and (span := b.span(graph[0])):
        rel, offset, size = span
        elements = decode_strings(files[rel][offset : offset + size], 1)  # type: ignore[index]
        fields = parse(elements[0]) if elements else None
        if fields is None:
            return None
        data, what = mutate_message(fields, rng)
        b.append_tensor(graph[0], *encode_strings([data]))
        return f"object graph in {rel} (protobuf) {what}; index as {b.commit(rng)}"
    if roll < 0.45 and strings:
        i = rng.choice(strings)
        span = b.span(i)
        count = 1
        for d in _dims(parse(b.entries[i][1]) or []):
            count *= d
        elements = decode_strings(files[span[0]][span[1] : span[1] + span[2]], count) if span else None  # type: ignore[index]
        if not elements:
            return None
        if rng.random() < 0.5:
            k = rng.randrange(len(elements))
            elements[k] = rng.choice((b"", b"\xff" * 3, b"x" * 70000))
            data, crc = encode_strings(elements)
            what = f"string element {k} replaced"
        else:
            data, crc = encode_strings(elements)
            lie = rng.choice((0, 2**31, 2**32, 2**63 - 1, 2**64 - 1, len(data) * 10))
            rest = data[len(b"".join(encode_varint(len(e)) for e in elements)) :]
            data = encode_varint(lie) + b"".join(encode_varint(len(e)) for e in elements[1:]) + rest
            what = f"string length 0 -> {lie}"
        b.append_tensor(i, data, crc)
        return f"string tensor {b.entries[i][0][:50]!r}: {what}; index as {b.commit(rng)}"
    spans = [(i, s) for i in b.tensors() if (s := b.span(i)) and s[2]]
    if roll < 0.8 and spans:
        i, (rel, offset, size) = rng.choice(spans)
        data = bytearray(files[rel])  # type: ignore[arg-type]
        for _ in range(rng.randint(1, 3)):
            data[offset + rng.randrange(size)] ^= 1 << rng.randrange(8)
        files[rel] = bytes(data)
        if rng.random() < 0.6:
            fields = _set(parse(b.entries[i][1]) or [], 6, I32, mask(crc32c(bytes(data[offset : offset + size]))))
            b.set_entry(i, fields)
            return f"{rel}: bits of {b.entries[i][0][:50]!r} flipped, crc fixed; index as {b.commit(rng)}"
        return f"{rel}: bits of {b.entries[i][0][:50]!r} flipped (crc stale)"
    shards = sorted(r for r in files if "variables/variables.data-" in r and r.startswith(prefix))
    if not shards:
        return None
    rel = rng.choice(shards)
    data = files[rel]
    if not isinstance(data, bytes):
        return None
    cut = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        files[rel] = data[:cut]
        return f"{rel} truncated {len(data)} -> {cut}"
    files[rel] = data[:cut] + rng.randbytes(rng.choice((1, 7, 4096))) + data[cut:]
    return f"{rel}: bytes inserted at {cut} (later tensors move)"
