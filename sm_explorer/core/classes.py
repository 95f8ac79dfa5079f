"""Which classes core makes a model's functions, signatures and root from.

Core's own classes are plain data. The assembly layer (``sm_explorer.loaded``)
passes constructors of subclasses that also run, prune and save, so core never
imports the layers that do those things, and ``isinstance`` checks against
core's classes still hold for what ``sm_explorer.load`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sm_explorer.core.functions import ConcreteFunction, Signature
from sm_explorer.core.objects import BareConcreteFunction, Function
from sm_explorer.core.root import Loaded

__all__ = ["ObjectClasses", "PLAIN"]


@dataclass(frozen=True)
class ObjectClasses:
    """Constructors, called with the arguments of the core class they stand for."""

    concrete_function: Callable[..., ConcreteFunction] = ConcreteFunction
    signature: Callable[..., Signature] = Signature
    function: Callable[..., Function] = Function
    bare_concrete_function: Callable[..., BareConcreteFunction] = BareConcreteFunction
    root: Callable[..., Loaded] = Loaded


PLAIN = ObjectClasses()  # data only: nothing runs, prunes or saves
