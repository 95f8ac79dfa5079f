"""Errors of the graph package.

Pruning fails on a user's request (a name that is not there, a feed that is
not a tensor, an output that needs an input nobody feeds), so its error is a
``SavedModelError`` like every other failure about a model, and a
``ValueError`` as TensorFlow raises for the same requests.
"""

from __future__ import annotations

from sm_explorer.errors import SavedModelError

__all__ = ["PruneError"]


class PruneError(SavedModelError, ValueError):
    """A prune request that cannot be met: unknown name, bad feed, or unfed input.

    For an unfed input, ``path`` lists the nodes from the fetch to that input."""

    path: list[str] = []
