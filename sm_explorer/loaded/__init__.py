"""The assembly layer: what ``sm_explorer.load`` returns, put together from the layers below.

Core reads a SavedModel into plain data; ``graph`` models its graphs; ``exec``
runs them and ``export`` writes them. This layer composes them, and nothing
below imports it: it gives core subclasses of its functions, signatures and
root that call (exec), prune (graph) and show their graph, pruned functions
that also run and save (export), and one ``ModelContext`` per opened model
that owns what using it keeps (the graph library, the session).
"""

from __future__ import annotations

from sm_explorer.loaded.context import ModelContext, load, open_saved_model
from sm_explorer.loaded.objects import BareConcreteFunction, ConcreteFunction, Function, Loaded, Signature
from sm_explorer.loaded.runnable import PrunedFunction

__all__ = [
    "load", "open_saved_model", "ModelContext",
    "Loaded", "Signature", "ConcreteFunction", "Function", "BareConcreteFunction", "PrunedFunction",
]
