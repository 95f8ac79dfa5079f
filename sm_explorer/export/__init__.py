"""Writing models back out: a minimal TF1-style SavedModel (``write_saved_model``), the
tensor-bundle checkpoint writer underneath it, and variable values as ``.npz``.

Everything that writes files lives here; ``core`` only reads. This package may use
``core`` and ``graph``, never ``exec``.
"""

from __future__ import annotations

from sm_explorer.export.bundle_writer import write_checkpoint
from sm_explorer.export.npz import write_variables_npz
from sm_explorer.export.saved_model import Signature, SignatureTensor, write_saved_model

__all__ = ["write_saved_model", "write_checkpoint", "write_variables_npz", "Signature", "SignatureTensor"]
