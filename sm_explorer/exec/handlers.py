"""The registry of ops the interpreter runs itself (see builtin.py, tables.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["HANDLERS", "handles", "Handler"]

# handler(interpreter, body, node, inputs, depth) -> list of outputs
Handler = Callable[[Any, Any, Any, list[Any], int], list[Any]]
HANDLERS: dict[str, Handler] = {}


def handles(*ops: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for op in ops:
            HANDLERS[op] = fn
        return fn

    return register
