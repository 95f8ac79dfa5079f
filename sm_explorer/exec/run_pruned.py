"""Calling a pruned function on NumPy.

The pruned subgraph is exported as a self-contained GraphDef whose variable
reads are placeholders; those are fed with the checkpoint's values (mapped,
not copied) and the graph runs in a fresh interpreter over the same model,
so control-flow branches and loop bodies still find their functions. The
exported body is made by ``pruned_body``; the caller keeps it between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_explorer.exec.body import Body, graph_body
from sm_explorer.exec.convert import Mismatch, to_tensor
from sm_explorer.exec.errors import ExecutionError
from sm_explorer.exec.interpreter import DEAD, Interpreter
from sm_explorer.exec.session import ArgumentError

if TYPE_CHECKING:
    from sm_explorer.graph.prune import PrunedFunction

__all__ = ["call_pruned", "pruned_body"]


def _bind(pruned: PrunedFunction, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    specs = pruned.inputs
    if len(args) > len(specs):
        raise ArgumentError(f"the pruned function takes {len(specs)} inputs, got {len(args)} positional")
    names = {}
    for ref, spec in zip(pruned.feeds, specs):
        names[spec.name] = spec
        names[ref.name] = spec  # the original feed name works too ...
        names[(spec.name or "").removesuffix(":0")] = spec  # ... and "x" for "x:0"
    given = {spec.name: value for spec, value in zip(specs, args)}
    for key, value in kwargs.items():
        spec = names.get(key)
        if spec is None:
            raise ArgumentError(f"no input {key!r}; inputs: {', '.join(s.name or '?' for s in specs)}")
        given[spec.name] = value
    missing = [s.name for s in specs if s.name not in given]
    if missing:
        raise ArgumentError(f"missing inputs: {', '.join(n or '?' for n in missing)}")
    out = {}
    for spec in specs:
        try:
            out[spec.name] = to_tensor(given[spec.name], spec.dtype)
        except Mismatch as exc:
            raise ArgumentError(f"input {spec.name!r}: {exc}") from None
    return out


def pruned_body(pruned: PrunedFunction) -> Body:
    """The pruned subgraph, exported and parsed for the interpreter (worth keeping)."""
    return graph_body(pruned.graph_def(variables="placeholders"))


def call_pruned(pruned: PrunedFunction, body: Body, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Run ``body`` (``pruned_body(pruned)``) on the inputs; the fetches' structure comes back."""
    from sm_explorer.graph.prune import leaves, map_structure

    model = pruned.graph.library.model
    if model is None:
        raise ExecutionError("this pruned function does not come from a SavedModel, so it cannot run here")
    feeds = {body.parse_ref(name): value for name, value in _bind(pruned, args, kwargs).items()}
    for name, value in pruned.variable_values().items():
        feeds[body.parse_ref(name)] = value
    names = pruned.fetch_names
    tensors = [n for n in leaves(names) if ":" in n]
    targets = [n for n in leaves(names) if ":" not in n]
    values = Interpreter(model).run(body, feeds, [body.parse_ref(n) for n in tensors], targets)
    by_name = dict(zip(tensors, values))
    for name, value in by_name.items():
        if value is DEAD:
            raise ExecutionError(f"fetch {name!r} is on an untaken branch of a Switch")
    return map_structure(lambda n: by_name.get(n) if ":" in n else None, names)
