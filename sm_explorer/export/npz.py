"""Export variable values to a NumPy .npz file (never pickled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sm_explorer.core.model import SavedModel
from sm_explorer.core.output import atomic_file
from sm_explorer.errors import SavedModelError

__all__ = ["write_variables_npz"]


def write_variables_npz(model: SavedModel, target: Path, overwrite: bool = False) -> tuple[int, list[str]]:
    """Write every readable numeric checkpoint tensor keyed by checkpoint key.

    Returns (count written, keys skipped with the reason)."""
    ckpt = model.checkpoint
    if ckpt is None:
        raise SavedModelError(f"has no checkpoint to export ({model.checkpoint_problem})", model.files.root)
    arrays: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    for key, entry in ckpt.entries.items():
        if entry.dtype_name in ("string", "resource", "variant"):
            skipped.append(f"{key} ({entry.dtype_name})")
            continue
        try:
            arrays[key] = np.asarray(ckpt.read(key))
        except SavedModelError as exc:
            skipped.append(f"{key} ({exc.message})")
    with atomic_file(target, overwrite, model.files.root) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return len(arrays), skipped
