"""The op registry: TensorFlow op name -> NumPy kernel.

A kernel is a small function ``kernel(ctx, *inputs) -> output | tuple of outputs``.
``inputs`` are the node's data inputs, already evaluated (NumPy arrays, or
``Resource`` handles for resource inputs). ``ctx`` is an ``OpContext`` that
gives the node's decoded attributes and the execution limits. Kernels never
touch files, the network or global state: ops that would are refused by the
interpreter before their kernel runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sm_explorer.errors import LimitError
from sm_explorer.exec.errors import ExecutionError

__all__ = [
    "Kernel",
    "OpContext",
    "kernel",
    "lookup",
    "supported_ops",
    "arity",
    "KernelError",
    "BudgetError",
    "DATA_ERRORS",
    "is_data_error",
]

Kernel = Callable[..., Any]

_KERNELS: dict[str, Kernel] = {}


class KernelError(ExecutionError):
    """A kernel found its inputs or attrs invalid: a problem with the model, so part of the
    SavedModelError family. The interpreter re-raises it as an ExecutionError naming the node."""


class BudgetError(KernelError, LimitError):
    """An output would be larger than the execution budget (re-raised as a LimitError naming the node)."""


# What NumPy raises when the model's data does not fit an operation, deliberately few:
# ValueError (shapes that do not broadcast or reshape, axes out of range, values that do not
# convert) and OverflowError (numbers too large for the C integer they must fit). TypeErrors
# count only when NumPy defines them (its ufuncs have no loop for the model's dtypes):
# a plain TypeError, like an IndexError or AttributeError, is a bug in the kernel.
DATA_ERRORS: tuple[type[Exception], ...] = (ValueError, OverflowError)


def is_data_error(err: Exception) -> bool:
    """Whether ``err`` is NumPy refusing the model's data, rather than a bug of ours."""
    if isinstance(err, DATA_ERRORS):
        return True
    return isinstance(err, TypeError) and type(err).__module__.split(".")[0] == "numpy"


@dataclass
class OpContext:
    """What a kernel may know about the node it runs for.

    ``attrs`` holds decoded attr values: ``type`` attrs are NumPy dtypes,
    ``shape`` attrs are tuples of int-or-None (or None for unknown rank),
    ``tensor`` attrs are NumPy arrays, ``string`` attrs are ``str`` (decoded as
    UTF-8, falling back to ``bytes``), ``func`` attrs are function names, and
    ``list`` attrs are Python lists of those.
    """

    op: str
    name: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    num_outputs: int = 1
    max_elements: int = 1 << 31  # the memory budget for ops that create big outputs
    # For ops that take a function attr (XlaReduceWindow...): call(name, args) -> outputs.
    call_function: Callable[[str, list[Any]], list[Any]] | None = None
    # An elementwise tail fused into this op (``fusion.Epilogue``), or None. Kernels that
    # compute their output in blocks may call ``epilogue.bind(shape, dtype)`` and, when it
    # says yes, ``epilogue.apply(block, rows)`` on every block; others just ignore it.
    epilogue: Any = None

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def check_size(self, num_elements: int) -> None:
        """Refuse to create an output larger than the execution budget."""
        if num_elements < 0 or num_elements > self.max_elements:
            raise BudgetError(
                f"{self.op} would create {num_elements} elements, over the limit of "
                f"{self.max_elements} (raise max_elements to allow it)"
            )


def kernel(*ops: str) -> Callable[[Kernel], Kernel]:
    """Register a function as the kernel for one or more op names."""

    def register(fn: Kernel) -> Kernel:
        for op in ops:
            if op in _KERNELS:
                raise RuntimeError(f"two kernels registered for {op}")
            _KERNELS[op] = fn
        return fn

    return register


def arity(fn: Kernel) -> tuple[int, int | None]:
    """How many inputs a kernel takes after ``ctx``: (at least, at most or None for any).

    A node from a file may have any number of inputs; checking them here keeps a
    wrong count a problem with the model instead of a TypeError deep in a kernel.
    """
    params = list(inspect.signature(fn).parameters.values())[1:]  # follows functools.wraps to the kernel
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    least = sum(1 for p in positional if p.default is p.empty)
    most = None if any(p.kind is p.VAR_POSITIONAL for p in params) else len(positional)
    return least, most


def _load_all() -> None:
    # Importing the kernel modules fills the registry.
    from sm_explorer.exec import kernels  # noqa: F401


def lookup(op: str) -> Kernel | None:
    _load_all()
    return _KERNELS.get(op)


def supported_ops() -> list[str]:
    _load_all()
    return sorted(_KERNELS)
