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

__all__ = ["Case", "cases", "tf_cannot_parse", "value_digest", "read_run", "compare_output"]


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


def tf_cannot_parse(folder: Path) -> bool:
    """Whether TensorFlow itself failed to parse the model in ``folder`` (broken on purpose).

    Only such models may fail to open in tests that walk the whole corpus; any other
    failure is ours and must show."""
    folder = folder.resolve()
    return any("parse_error" in c.expected for c in cases() if c.folder.resolve() == folder)


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


def read_run(npz: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The inputs (``in/*``) and outputs (``out/*``) of one signature run."""
    with np.load(npz, allow_pickle=False) as data:
        inputs = {k[3:]: data[k] for k in data.files if k.startswith("in/")}
        outputs = {k[4:]: data[k] for k in data.files if k.startswith("out/")}
    return inputs, outputs


def compare_output(name: str, got: np.ndarray, want: np.ndarray) -> None:
    """rtol 1e-4 / atol 1e-5 for floats; exact for ints, bools and strings (which
    the expected files store as NumPy ``S``, so without trailing NULs)."""
    got = np.asarray(got)
    if want.dtype.kind == "S":
        flat = [bytes(x) if not isinstance(x, bytes) else x for x in got.reshape(-1)]
        assert [x.rstrip(b"\0") for x in flat] == [x for x in want.reshape(-1)], name
        assert got.shape == want.shape, name
        return
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got.astype(want.dtype), want, rtol=1e-4, atol=1e-5, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)
