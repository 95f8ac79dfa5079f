"""Errors raised while executing a model (all in the SavedModelError family)."""

from __future__ import annotations

from sm_explorer.errors import SavedModelError

__all__ = ["ExecutionError", "UnsupportedOpError", "RefusedOpError", "MissingInputError"]


class ExecutionError(SavedModelError):
    """An op failed, or the graph cannot be evaluated as written."""


class UnsupportedOpError(ExecutionError):
    """No NumPy kernel for an op; ``supported_ops()`` lists the ones we have."""


class RefusedOpError(ExecutionError):
    """An op that would touch the outside world, not allowed by the caller."""


class MissingInputError(ExecutionError):
    """A placeholder or function input needed by the fetches was not given."""
