"""Writer of TensorFlow's tensor-bundle (V2) checkpoints: ``prefix.index`` +
``prefix.data-NNNNN-of-MMMMM``.

The mirror of ``bundle.py``: each tensor's bytes go to one data shard
(little-endian, packed back to back with no alignment padding, as TensorFlow
writes them), and the index table maps the sorted tensor names to
``BundleEntryProto``s, with the ``BundleHeaderProto`` under the empty key.
Every file is written to a temporary name and renamed at the end, the index
last, so an interrupted write never leaves a checkpoint that looks complete.
"""

from __future__ import annotations

import heapq
import struct
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from sm_explorer._proto import checkpoint_pb2
from sm_explorer.core import dtypes
from sm_explorer.core.checksum import extend, mask
from sm_explorer.core.output import atomic_file
from sm_explorer.export.sstable_writer import DEFAULT_BLOCK_SIZE, build_table, encode_varint

__all__ = ["write_checkpoint", "shard_path", "benchmark_write", "BUNDLE_VERSION", "MAX_SHARDS", "TF_BLOCK_SIZE"]

BUNDLE_VERSION = 1  # kTensorBundleVersion: the producer version TF writes
MAX_SHARDS = 99999  # shard numbers are printed with five digits
TF_BLOCK_SIZE = 1 << 18  # the index block size TensorFlow's bundle writer uses
_STRING = 7
_WRITE_CHUNK = 1 << 24  # large arrays reach the file in 16 MiB slices


def shard_path(prefix: Path, shard: int, num_shards: int) -> Path:
    """The data file of ``shard`` (0-based) in a checkpoint of ``num_shards``."""
    return Path(f"{prefix}.data-{shard:05d}-of-{num_shards:05d}")


@dataclass
class _Tensor:
    """One tensor ready to write: its dtype enum, shape and byte pieces."""

    key: bytes
    dtype: int
    shape: tuple[int, ...]
    pieces: list[Any]  # bytes or uint8 arrays, written in order
    size: int
    crc: int | None = None  # known up front for strings; numeric CRCs are computed while writing


def _little_endian(array: np.ndarray) -> np.ndarray:
    order = array.dtype.byteorder
    if order == ">" or (order == "=" and sys.byteorder == "big"):
        array = array.byteswap().view(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array)


def _string_bytes(element: object, key: str) -> bytes:
    if isinstance(element, (bytes, bytearray, memoryview)):
        return bytes(element)
    if isinstance(element, str):
        return element.encode("utf-8")
    raise TypeError(f"{key!r}: a string tensor holds {type(element).__name__}, not bytes or str")


def _string_tensor(key: str, array: np.ndarray) -> tuple[list[Any], int, int]:
    """Layout of TF's string tensors: varint lengths, their masked CRC, the bytes."""
    elements = [_string_bytes(e, key) for e in array.reshape(-1).tolist()]
    lengths = b"".join(encode_varint(len(e)) for e in elements)
    crc = 0
    for e in elements:  # the CRC covers each length as a fixed-width integer
        crc = extend(crc, struct.pack("<I" if len(e) <= 0xFFFFFFFF else "<Q", len(e)))
    length_crc = struct.pack("<I", mask(crc))
    crc = extend(crc, length_crc)
    body = b"".join(elements)
    crc = extend(crc, body)
    return [lengths, length_crc, body], len(lengths) + 4 + len(body), mask(crc)


def _prepare(key: str, value: object) -> _Tensor:
    if not isinstance(key, str) or not key:
        raise ValueError(f"checkpoint keys must be non-empty strings, not {key!r}")
    if key.startswith("\x00"):
        raise ValueError(f"{key!r}: keys starting with NUL are reserved for partitioned slices")
    array = np.asarray(value)
    shape = tuple(int(d) for d in array.shape)
    raw = key.encode("utf-8")
    if array.dtype.kind in "OSU":
        pieces, size, crc = _string_tensor(key, array)
        return _Tensor(raw, _STRING, shape, pieces, size, crc)
    array = _little_endian(array)
    dtype = dtypes.from_numpy(array.dtype)
    flat = array.reshape(-1).view(np.uint8)
    return _Tensor(raw, dtype, shape, [flat], flat.nbytes)


def _assign_shards(tensors: list[_Tensor], num_shards: int) -> list[list[_Tensor]]:
    """Spread tensors over shards, each to the emptiest so far (in key order)."""
    shards: list[list[_Tensor]] = [[] for _ in range(num_shards)]
    heap = [(0, i) for i in range(num_shards)]  # (bytes so far, shard), already a heap
    for tensor in tensors:
        filled, target = heapq.heappop(heap)
        shards[target].append(tensor)
        heapq.heappush(heap, (filled + tensor.size, target))
    return shards


def _write_piece(out: BinaryIO, piece: Any, crc: int) -> int:
    """Write one piece and extend ``crc`` over it, a slice at a time."""
    view = memoryview(piece).cast("B")
    for start in range(0, len(view), _WRITE_CHUNK):
        chunk = view[start : start + _WRITE_CHUNK]
        out.write(chunk)
        crc = extend(crc, chunk)
    return crc


def _write_shard(
    path: Path, tensors: list[_Tensor], shard: int
) -> Iterator[tuple[bytes, checkpoint_pb2.BundleEntryProto]]:
    offset = 0
    with open(path, "wb") as out:
        for tensor in tensors:
            crc = 0
            for piece in tensor.pieces:
                crc = _write_piece(out, piece, crc)
            entry = checkpoint_pb2.BundleEntryProto(
                dtype=tensor.dtype, shard_id=shard, offset=offset, size=tensor.size,
                crc32c=tensor.crc if tensor.crc is not None else mask(crc),
            )
            entry.shape.SetInParent()  # TF writes "shape {}" even for scalars
            for dim in tensor.shape:
                entry.shape.dim.add(size=dim)
            offset += tensor.size
            yield tensor.key, entry


def write_checkpoint(
    prefix: Path,
    tensors: Mapping[str, Any],
    num_shards: int = 1,
    *,
    overwrite: bool = False,
    model_root: Path | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
) -> list[Path]:
    """Write ``tensors`` (name -> array-like) as a V2 checkpoint at ``prefix``.

    Strings may be bytes or str (stored UTF-8); bfloat16 and float8 come from
    ml_dtypes. Returns the files written, the index first. With
    ``block_size=TF_BLOCK_SIZE`` the files are byte-identical to what
    TensorFlow's SaveV2 writes for the same tensors given in sorted order.
    """
    if not 1 <= num_shards <= MAX_SHARDS:
        raise ValueError(f"num_shards must be between 1 and {MAX_SHARDS}, not {num_shards}")
    prefix = Path(prefix)
    prepared = sorted((_prepare(k, v) for k, v in tensors.items()), key=lambda t: t.key)
    index_path = Path(f"{prefix}.index")
    data_paths = [shard_path(prefix, i, num_shards) for i in range(num_shards)]
    entries: list[tuple[bytes, bytes]] = []
    with ExitStack() as stack:
        # Entered first so that it is renamed last: no index, no checkpoint.
        index_tmp = stack.enter_context(atomic_file(index_path, overwrite, model_root))
        for shard, (path, group) in enumerate(zip(data_paths, _assign_shards(prepared, num_shards))):
            tmp = stack.enter_context(atomic_file(path, overwrite, model_root))
            entries += [(k, e.SerializeToString()) for k, e in _write_shard(tmp, group, shard)]
        header = checkpoint_pb2.BundleHeaderProto(num_shards=num_shards)
        header.version.producer = BUNDLE_VERSION
        entries.append((b"", header.SerializeToString()))
        entries.sort(key=lambda item: item[0])
        index_tmp.write_bytes(build_table(entries, block_size=block_size))
    return [index_path, *data_paths]


def benchmark_write(total_mb: float = 100.0, num_tensors: int = 10, directory: Path | None = None) -> float:
    """Seconds to write ``total_mb`` MB of float32 variables (for benchmarks)."""
    per = max(1, int(total_mb * 1e6 / 4 / num_tensors))
    rng = np.random.default_rng(0)
    values = {f"layer_{i:03d}/kernel": rng.random(per, dtype=np.float32) for i in range(num_tensors)}
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        start = time.perf_counter()
        write_checkpoint(Path(tmp) / "variables", values)
        return time.perf_counter() - start
