"""Files and folders we write get the permissions the user's umask gives any program's output,
not the private 0600/0700 of temporary files, and are still written atomically."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import sm_explorer
from sm_explorer.cli import main
from sm_explorer.core.output import OutputError, atomic_dir, atomic_file
from tests.helpers import fixture_model

KERAS_FEED = "StatefulPartitionedCall/tiny_cnn_1/gap_1/Mean:0"
KERAS_FETCH = "StatefulPartitionedCall/tiny_cnn_1/probs_1/Softmax:0"


@pytest.fixture(params=[0o022, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_modes(root: Path, umask: int) -> None:
    """Every folder under (and including) ``root`` is 0777 & ~umask, every file 0666 & ~umask."""
    entries = [root, *root.rglob("*")] if root.is_dir() else [root]
    for entry in entries:
        want = (0o777 if entry.is_dir() else 0o666) & ~umask
        assert mode(entry) == want, f"{entry}: {oct(mode(entry))}, want {oct(want)}"


def test_atomic_file_and_dir(tmp_path: Path, umask: int) -> None:
    with atomic_file(tmp_path / "out.bin") as tmp:
        tmp.write_bytes(b"x")
    assert_modes(tmp_path / "out.bin", umask)
    with atomic_dir(tmp_path / "folder") as tmp:
        (tmp / "inside").write_bytes(b"y")
    assert_modes(tmp_path / "folder", umask)
    with pytest.raises(OutputError):  # still never over an existing path unless asked
        with atomic_file(tmp_path / "out.bin"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "out.bin"]  # no leftovers


def test_cli_outputs(tmp_path: Path, umask: int) -> None:
    model = str(fixture_model("tf1_two_metagraphs"))
    assert main(["graph", model, "--tag-set", "serve", "--format", "dot", "-o", str(tmp_path / "g.dot")]) == 0
    assert main(["vars", model, "--tag-set", "serve", "--npz", str(tmp_path / "v.npz")]) == 0
    assert main(["prune", model, "--tag-set", "serve", "--feeds", "x:0", "--fetches", "out:0",
                 "--output", str(tmp_path / "cut")]) == 0
    for name in ("g.dot", "v.npz", "cut"):
        assert_modes(tmp_path / name, umask)


def test_exports(tmp_path: Path, umask: int) -> None:
    loaded = sm_explorer.load(fixture_model("keras3_export"))
    pruned = loaded.signatures["serving_default"].prune([KERAS_FEED], KERAS_FETCH)
    path = pruned.save(tmp_path / "head")
    assert (path / "variables").is_dir()
    assert_modes(path, umask)
    again = sm_explorer.load(path)
    (key,) = again.signatures["serving_default"].inputs
    assert again.signatures["serving_default"](**{key: np.ones([1, 6], np.float32)})
