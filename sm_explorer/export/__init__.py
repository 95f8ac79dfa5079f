"""Writing models back out: a minimal TF1-style SavedModel (``write_saved_model``)
and, underneath it, the tensor-bundle checkpoint writer."""

from __future__ import annotations

from sm_explorer.core.bundle_writer import write_checkpoint
from sm_explorer.export.saved_model import Signature, SignatureTensor, write_saved_model

__all__ = ["write_saved_model", "write_checkpoint", "Signature", "SignatureTensor"]
