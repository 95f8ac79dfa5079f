"""Writing files safely: atomically, never over an existing path unless asked,
and never into the model folder being read."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sm_explorer.errors import SavedModelError

__all__ = ["OutputError", "check_target", "atomic_file", "atomic_dir"]


class OutputError(SavedModelError):
    """An output path is refused (exists, or lies inside the model folder)."""


def check_target(target: Path, overwrite: bool, model_root: Path | None = None) -> None:
    if model_root is not None:
        real = target.resolve()
        root = model_root.resolve()
        if real == root or real.is_relative_to(root):
            raise OutputError("is inside the model folder; sm_explorer never writes there", target)
        if root.is_relative_to(real):
            raise OutputError("contains the model folder; replacing it would destroy the model", target)
    if target.exists() and not overwrite:
        raise OutputError("already exists (pass overwrite to replace it)", target)


@contextmanager
def atomic_file(target: Path, overwrite: bool = False, model_root: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    check_target(target, overwrite, model_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(target: Path, overwrite: bool = False, model_root: Path | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it becomes ``target``."""
    target = Path(target)
    check_target(target, overwrite, model_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
