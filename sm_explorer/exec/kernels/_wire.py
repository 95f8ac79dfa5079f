"""A minimal protobuf wire-format reader for the few protos kernels decode
(tf.Example records, XLA dimension-number attrs). No schema, no dependencies."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from sm_explorer.exec.registry import KernelError


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise KernelError("truncated or malformed protobuf varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) for each field of a message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 2:
            size, pos = varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise KernelError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise KernelError("truncated protobuf message")
        yield number, wire, value


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def messages(buf: bytes, number: int) -> list[bytes]:
    """Payloads of the length-delimited fields ``number`` (sub-messages, strings, packed lists)."""
    return [value for num, wire, value in fields(buf) if num == number and wire == 2 and isinstance(value, bytes)]


def repeated_ints(buf: bytes, number: int) -> list[int]:
    """A repeated int64 field, packed or not."""
    out: list[int] = []
    for num, wire, value in fields(buf):
        if num != number:
            continue
        if isinstance(value, int):
            out.append(signed64(value))
        elif wire == 2:  # a packed run of varints
            pos = 0
            while pos < len(value):
                v, pos = varint(value, pos)
                out.append(signed64(v))
    return out


def repeated_floats(buf: bytes, number: int) -> list[float]:
    """A repeated float field, packed or not."""
    out: list[float] = []
    for num, wire, value in fields(buf):
        if num != number or not isinstance(value, bytes):
            continue
        if wire == 5:
            out.append(struct.unpack("<f", value)[0])
        elif wire == 2:
            if len(value) % 4:
                raise KernelError("malformed packed float list")
            out.extend(struct.unpack(f"<{len(value) // 4}f", value))
    return out


def single_int(buf: bytes, number: int, default: int = 0) -> int:
    """The last value of a varint field (proto semantics for repeated scalars)."""
    value = default
    for num, _, v in fields(buf):
        if num == number and isinstance(v, int):
            value = signed64(v)
    return value
