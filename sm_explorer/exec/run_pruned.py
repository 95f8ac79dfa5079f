"""Calling a pruned function on NumPy, straight from the graph model.

The interpreter runs the pruned nodes of the function's graph (no GraphDef is
exported and parsed again). Variables are set up as the exported graph's
would be: a variable only read feeds its reads with the checkpoint's value
(mapped, not copied); one used otherwise (assigned, passed to a loop) is
assigned that value before the run. Captured constants and assets become the
Consts an export would write. Each call runs in a fresh interpreter over the
same model, so control-flow branches and loop bodies still find their
functions and no variable write outlives the call. ``pruned_body`` makes the
body; the caller keeps it between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_explorer.exec.body import Body, Ref, run_body
from sm_explorer.exec.builtin import initialized_variable
from sm_explorer.exec.convert import Mismatch, to_tensor
from sm_explorer.exec.errors import ExecutionError
from sm_explorer.exec.interpreter import DEAD, Interpreter
from sm_explorer.exec.session import ArgumentError
from sm_explorer.graph.export import HANDLE_OPS, capture_node, is_variable, plan_variables, variable_value
from sm_explorer.graph.nodes import Node, TensorRef

if TYPE_CHECKING:
    from sm_explorer.graph.prune import PrunedFunction

__all__ = ["call_pruned", "pruned_body"]


def _bind(pruned: PrunedFunction, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Input spec name -> value, converted to the spec's dtype."""
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
    """The pruned nodes as a run body (worth keeping): the graph's own nodes, but for
    captured inputs that are not variables, which become what an export writes."""
    graph = pruned.graph
    nodes = {name: graph.nodes[name] for name in pruned.nodes}
    notes: list[str] = []  # what an export could not make self-contained: export's to report
    for name, binding in pruned.captures.items():
        node = nodes[name]
        if node.op in (*HANDLE_OPS, "Placeholder") and not is_variable(binding):
            proto = capture_node(graph, name, binding, notes)
            nodes[name] = Node(name, proto.op, proto, [], [], node.origin)
    return run_body(graph, "graph", nodes)


def _variable_feeds(pruned: PrunedFunction, it: Interpreter) -> dict[Ref, Any]:
    """Feeds that give the pruned nodes the saved variable values (see the module doc)."""
    graph = pruned.graph
    plan = plan_variables(pruned)
    feeds: dict[Ref, Any] = {
        TensorRef(name, 0): variable_value(graph, binding, source) for name, (binding, source) in plan.reads.items()
    }
    for name, (binding, _, _) in plan.handles.items():
        value = variable_value(graph, binding, name)
        feeds[TensorRef(name, 0)] = initialized_variable(it, graph.nodes[name], value)
    return feeds


def call_pruned(pruned: PrunedFunction, body: Body, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Run ``body`` (``pruned_body(pruned)``) on the inputs; the fetches' structure comes back."""
    from sm_explorer.graph.prune import leaves, map_structure

    model = pruned.graph.library.model
    if model is None:
        raise ExecutionError("this pruned function does not come from a SavedModel, so it cannot run here")
    given = _bind(pruned, args, kwargs)
    it = Interpreter(model)
    feeds = _variable_feeds(pruned, it)
    feeds.update((ref, given[spec.name]) for ref, spec in zip(pruned.feeds, pruned.inputs))
    fetches = leaves(pruned.structured_fetches)
    tensors = [f for f in fetches if isinstance(f, TensorRef)]
    targets = [f for f in fetches if not isinstance(f, TensorRef)]
    values = it.run(body, feeds, tensors, targets)
    by_ref = dict(zip(tensors, values))
    shown = dict(zip(fetches, leaves(pruned.fetch_names)))  # as the exported graph names them
    for ref, value in by_ref.items():
        if value is DEAD:
            raise ExecutionError(f"fetch {shown[ref]!r} is on an untaken branch of a Switch")
    return map_structure(lambda f: by_ref.get(f) if isinstance(f, TensorRef) else None, pruned.structured_fetches)
