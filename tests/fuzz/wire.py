"""Protobuf wire format as a tree of fields, and mutations at any depth.

Parsing needs no schema: a length-delimited value that parses cleanly as
fields is treated as a sub-message. A mutation edits one level and then
re-serializes every enclosing level with its length recomputed, so the
broken value reaches the code that uses it instead of the first parser.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

__all__ = [
    "Field", "parse", "serialize", "encode_varint", "decode_varint", "mutate_message",
    "INTERESTING_INTS", "INTERESTING_STRINGS", "deep_nest",
]

VARINT, I64, LEN, I32 = 0, 1, 2, 5
_WIRE_TYPES = (VARINT, I64, LEN, I32)
MAX_PARSE_DEPTH = 64

# Values that break sizes, shapes, dtypes, offsets and ids: edges of int32,
# uint32, int64 and "multiply me" numbers. Negative values are encoded as
# 10-byte varints, as protobuf does for int32/int64.
INTERESTING_INTS = (
    0, 1, 2, 7, -1, -2, 127, 128, 255, 256, 4095, 65535, 65536,
    2**31 - 1, 2**31, -(2**31), 2**32 - 1, 2**32, 10**6, 10**9, 10**12,
    2**53, 2**62, 2**63 - 1, -(2**63), 2**64 - 1,
)
INTERESTING_STRINGS = (
    b"", b"\x00", b"\xff\xfe\xfd", b"../../../../etc/passwd", b"/etc/passwd", b"..",
    b"a" * 4096, b"%s%n{}{0}", "\u202e\u0000\U0001f600".encode(), b"\xc3", b"variables",
    b"saved_model.pb", b"_CHECKPOINTABLE_OBJECT_GRAPH", b"__saved_model_init_op",
    b"serving_default", b"serve",
)


@dataclass(eq=False)
class Field:
    """One field of a message: ``value`` is an int (VARINT, I32, I64) or bytes (LEN).

    ``length`` overrides the length prefix written for a LEN value (a lie).
    Children of a LEN value are parsed once and cached.
    """

    number: int
    wire: int
    value: int | bytes
    length: int | None = None
    _children: list[Field] | None | bool = field(default=False, repr=False)

    def children(self) -> list[Field] | None:
        """The value parsed as a message, or None if it is not one."""
        if self._children is False:
            self._children = parse(self.value) if self.wire == LEN and self.value else None
        return self._children  # type: ignore[return-value]

    def with_value(self, value: int | bytes, wire: int | None = None) -> Field:
        return Field(self.number, self.wire if wire is None else wire, value)


def encode_varint(value: int) -> bytes:
    """Base-128 varint; negative numbers as their 64-bit two's complement (10 bytes)."""
    value &= (1 << 64) - 1 if value < 0 else (1 << 70) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position); raises ValueError on a truncated or overlong varint."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def parse(buf: bytes) -> list[Field] | None:
    """The fields of ``buf``, or None unless all of it is well-formed fields."""
    fields = []
    pos = 0
    try:
        while pos < len(buf):
            tag, pos = decode_varint(buf, pos)
            number, wire = tag >> 3, tag & 7
            if number == 0 or number >= 1 << 29 or wire not in _WIRE_TYPES:
                return None
            if wire == VARINT:
                value, pos = decode_varint(buf, pos)
            elif wire == I64:
                if pos + 8 > len(buf):
                    return None
                (value,) = struct.unpack_from("<Q", buf, pos)
                pos += 8
            elif wire == I32:
                if pos + 4 > len(buf):
                    return None
                (value,) = struct.unpack_from("<I", buf, pos)
                pos += 4
            else:
                size, pos = decode_varint(buf, pos)
                if pos + size > len(buf):
                    return None
                value = buf[pos : pos + size]
                pos += size
            fields.append(Field(number, wire, value))
    except ValueError:
        return None
    return fields


def _encode(f: Field) -> bytes:
    tag = encode_varint((f.number << 3) | f.wire)
    if f.wire == VARINT:
        return tag + encode_varint(int(f.value))
    if f.wire == I64:
        return tag + struct.pack("<Q", int(f.value) & (2**64 - 1))
    if f.wire == I32:
        return tag + struct.pack("<I", int(f.value) & (2**32 - 1))
    data = bytes(f.value) if not isinstance(f.value, bytes) else f.value
    length = len(data) if f.length is None else f.length
    return tag + encode_varint(length) + data


def serialize(fields: list[Field]) -> bytes:
    """The wire bytes of ``fields``, every length prefix computed (unless overridden)."""
    return b"".join(_encode(f) for f in fields)


def deep_nest(number: int, inner: bytes, depth: int) -> bytes:
    """``inner`` wrapped in ``depth`` messages of field ``number`` (built in O(depth))."""
    tag = encode_varint((number << 3) | LEN)
    prefixes = []
    size = len(inner)
    for _ in range(depth):
        prefix = tag + encode_varint(size)
        prefixes.append(prefix)
        size += len(prefix)
    return b"".join(reversed(prefixes)) + inner


def interesting_int(rng: random.Random, old: int | None = None) -> int:
    """An edge value, or (sometimes) the old value nudged across a boundary."""
    if old is not None and rng.random() < 0.25:
        return old + rng.choice((-1, 1, 2**31, -(2**32)))
    return rng.choice(INTERESTING_INTS)


def _mutate_packed(data: bytes, rng: random.Random) -> bytes | None:
    """Treat ``data`` as packed varints and set one of them to an interesting value."""
    values, pos = [], 0
    try:
        while pos < len(data):
            value, pos = decode_varint(data, pos)
            values.append(value)
    except ValueError:
        return None
    if not values:
        return None
    values[rng.randrange(len(values))] = interesting_int(rng)
    return b"".join(encode_varint(v) for v in values)


def _mutate_level(fields: list[Field], rng: random.Random) -> tuple[list[Field], str]:
    """One mutation of one message level; returns the new fields and what was done."""
    out = list(fields)
    if not out:
        number = rng.choice((1, 2, 3, 4, 5))
        return [Field(number, VARINT, interesting_int(rng))], f"added field {number}"
    i = rng.randrange(len(out))
    f = out[i]
    roll = rng.random()
    if roll < 0.10:  # repeated field emptied or doubled
        same = [g for g in out if g.number == f.number]
        if rng.random() < 0.5:
            return [g for g in out if g.number != f.number], f"removed all {len(same)} of field {f.number}"
        return out + same, f"doubled the {len(same)} of field {f.number}"
    if roll < 0.17:  # wrong wire type for the same field number
        wire = rng.choice([w for w in _WIRE_TYPES if w != f.wire])
        value: int | bytes = encode_varint(interesting_int(rng)) if wire == LEN else interesting_int(rng)
        out[i] = f.with_value(value, wire)
        return out, f"field {f.number} changed wire type {f.wire} -> {wire}"
    if roll < 0.22:  # a field duplicated (singular fields: last wins, messages merge)
        out.insert(rng.randrange(len(out) + 1), f)
        return out, f"field {f.number} duplicated"
    if roll < 0.27:
        del out[i]
        return out, f"field {f.number} deleted"
    if f.wire in (VARINT, I64, I32):
        new = interesting_int(rng, int(f.value))
        out[i] = f.with_value(new)
        return out, f"field {f.number} {f.value} -> {new}"
    data = bytes(f.value)
    roll = rng.random()
    if roll < 0.15:  # a lying length prefix: enclosing lengths stay true
        lie = rng.choice((0, max(len(data) - 1, 0), len(data) + 1, len(data) * 2 + 7, 2**31, 2**63 - 1))
        out[i] = Field(f.number, LEN, data, length=lie)
        return out, f"field {f.number} length prefix {len(data)} -> {lie}"
    if roll < 0.35:
        packed = _mutate_packed(data, rng)
        if packed is not None:
            out[i] = f.with_value(packed)
            return out, f"field {f.number} as packed varints: one set to an interesting value"
    if roll < 0.55:
        new_bytes = rng.choice(INTERESTING_STRINGS)
        out[i] = f.with_value(new_bytes)
        return out, f"field {f.number} bytes -> {new_bytes[:40]!r}"
    if roll < 0.65 and data:
        nested = deep_nest(f.number, data, rng.choice((100, 1000, 3000)))
        out[i] = f.with_value(nested)
        return out, f"field {f.number} nested deeply in itself"
    if roll < 0.80 and data:
        cut = rng.randrange(len(data))
        out[i] = f.with_value(data[:cut])
        return out, f"field {f.number} truncated {len(data)} -> {cut}"
    if data:
        j = rng.randrange(len(data))
        new_data = data[:j] + bytes([data[j] ^ (1 << rng.randrange(8))]) + data[j + 1 :]
        out[i] = f.with_value(new_data)
        return out, f"field {f.number} one bit flipped at byte {j}"
    out[i] = f.with_value(rng.randbytes(rng.randrange(1, 32)))
    return out, f"field {f.number} random bytes"


def mutate_message(
    root: list[Field], rng: random.Random, stop: float = 0.2
) -> tuple[bytes, str]:
    """Walk down a random path of sub-messages, mutate one level, re-serialize.

    ``root`` is the parsed message (cached by the caller: its fields are never
    modified in place). At each level the walk stops with probability
    ``stop`` or when there is no sub-message to enter.
    """
    path: list[tuple[list[Field], int]] = []
    fields = root
    while len(path) < MAX_PARSE_DEPTH:
        subs = [i for i, f in enumerate(fields) if f.wire == LEN and f.children()]
        if not subs or (path and rng.random() < stop):
            break
        i = rng.choice(subs)
        path.append((fields, i))
        fields = fields[i].children()  # type: ignore[assignment]
    new_fields, what = _mutate_level(fields, rng)
    data = serialize(new_fields)
    where = []
    for parent, i in reversed(path):
        updated = list(parent)
        updated[i] = parent[i].with_value(data)
        data = serialize(updated)
        where.append(f"{parent[i].number}[{sum(1 for f in parent[:i] if f.number == parent[i].number)}]")
    return data, f"at {'.'.join(reversed(where)) or 'top'}: {what}"
