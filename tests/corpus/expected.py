"""Reading the expected files TensorFlow wrote (shared corpus and our fixtures).

Both use one layout: ``EXPECTED/<folder>.json`` lists every SavedModel found in
``<folder>`` with TensorFlow's view of it (see the shared SOURCES.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.conftest import CORPUS, FIXTURES

__all__ = ["Case", "cases", "value_digest"]


@dataclass(frozen=True)
class Case:
    source: str  # "corpus" or "fixtures"
    folder: Path  # where the SavedModel(s) live
    expected_dir: Path
    subdir: str
    expected: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.folder / self.subdir

    @property
    def id(self) -> str:
        return f"{self.folder.name}/{self.subdir}" if self.subdir != "." else self.folder.name


def _cases(source: str, models: Path, expected_dir: Path) -> list[Case]:
    out = []
    if not expected_dir.is_dir():
        return out
    for path in sorted(expected_dir.glob("*.json")):
        data = json.loads(path.read_text())
        folder = models / data.get("folder", path.stem)
        for entry in data.get("saved_models", []):
            out.append(Case(source, folder, expected_dir, entry.get("subdir", "."), entry))
    return out


def cases() -> list[Case]:
    return _cases("corpus", CORPUS, CORPUS / "EXPECTED") + _cases(
        "fixtures", FIXTURES / "models", FIXTURES / "expected"
    )


def value_digest(value: np.ndarray) -> str:
    """sha256 as the expected files compute it: little-endian bytes of numeric
    values; for strings, each element as 8-byte length + bytes. The expected
    files went through NumPy ``S`` arrays, which drop trailing NUL bytes, so
    strings are compared the same way."""
    if value.dtype == object:
        h = hashlib.sha256()
        for item in value.reshape(-1):
            item = bytes(item).rstrip(b"\0")
            h.update(len(item).to_bytes(8, "little") + item)
        return h.hexdigest()
    data = np.ascontiguousarray(value)
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    return hashlib.sha256(data.tobytes()).hexdigest()
