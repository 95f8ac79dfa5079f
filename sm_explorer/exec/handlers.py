"""The registry of ops the interpreter runs itself (see builtin.py, hash_tables.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["HANDLERS", "MIN_INPUTS", "handles", "Handler"]

# handler(interpreter, body, node, inputs, depth) -> list of outputs
Handler = Callable[[Any, Any, Any, list[Any], int], list[Any]]
HANDLERS: dict[str, Handler] = {}
# The inputs a handler reads by position: a node from a file with fewer is refused before it runs.
MIN_INPUTS: dict[str, int] = {}


def handles(*ops: str, inputs: int = 0) -> Callable[[Handler], Handler]:
    """Register ``fn`` for ``ops``; it reads the first ``inputs`` inputs by position."""

    def register(fn: Handler) -> Handler:
        for op in ops:
            HANDLERS[op] = fn
            MIN_INPUTS[op] = inputs
        return fn

    return register
