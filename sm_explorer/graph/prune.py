"""Pruning: the part of a graph some fetches need once some feeds are given.

Semantics follow TensorFlow's ``WrappedFunction.prune``: the subgraph is
every node the fetches reach through data and control inputs, stopping at
fed tensors. A fed tensor cuts only itself; its producer stays if something
needed uses another of its outputs, or depends on it by control while it
still has unfed outputs. Reaching a Placeholder, or a function input that
is neither fed nor captured, is an error naming one path to it (breadth
first, so a shortest one), as TF's "Unable to lift tensor" does.
"""

from __future__ import annotations

from collections import deque
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sm_explorer.core import specs
from sm_explorer.core.specs import TensorSpec
from sm_explorer.graph.errors import PruneError
from sm_explorer.graph.graph import UnknownNameError, parse_tensor_name
from sm_explorer.graph.nodes import Node, Tensor, TensorRef

if TYPE_CHECKING:
    from sm_explorer._proto import graph_pb2
    from sm_explorer.graph.graph import Graph
    from sm_explorer.graph.nodes import Binding

__all__ = ["prune", "PrunedFunction", "map_structure", "leaves", "MAX_PATH"]

MAX_PATH = 12  # steps shown in full in an "Unable to lift" path


def map_structure(fn: Any, structure: Any) -> Any:
    """``structure`` with every leaf replaced by ``fn(leaf)`` (dicts, lists, tuples, namedtuples)."""
    if isinstance(structure, TensorRef):
        return fn(structure)
    if isinstance(structure, dict):
        return type(structure)((k, map_structure(fn, v)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(map_structure(fn, v) for v in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, v) for v in structure)
    return fn(structure)


def leaves(structure: Any) -> list[Any]:
    """The leaves of a nested structure in TF's order (dict values by sorted key)."""
    out: list[Any] = []
    map_structure(out.append, _sorted_dicts(structure))
    return out


def _sorted_dicts(structure: Any) -> Any:
    if isinstance(structure, dict):
        return [_sorted_dicts(structure[k]) for k in sorted(structure)]
    if isinstance(structure, (list, tuple)) and not isinstance(structure, TensorRef):
        return [_sorted_dicts(v) for v in structure]
    return structure


def _text(item: Any) -> str:
    if isinstance(item, (TensorRef, Tensor)):
        return item.name
    if isinstance(item, Node):
        return item.name
    if isinstance(item, str):
        return item
    raise PruneError(f"feeds and fetches are names (str), not {type(item).__name__}: {item!r}")


def _tensor(graph: Graph, name: str, role: str) -> TensorRef:
    """A feed or fetch tensor, checked against the graph."""
    ref = parse_tensor_name(name)
    if ref is None:
        raise UnknownNameError(f"{role} {name!r} is not a tensor name{graph.suggest(name)}")
    node = graph.nodes.get(ref.node)
    if node is None:
        raise UnknownNameError(f"{role} {name!r}: no node {ref.node!r} in {graph.name}{graph.suggest(name)}")
    count = graph.num_outputs(node)
    if ref.known and count is not None and not 0 <= ref.index < count:
        raise PruneError(f"{role} {name!r}: node {ref.node!r} ({node.op}) has {count} output(s)")
    return ref


def _feed(graph: Graph, item: Any) -> TensorRef:
    name = _text(item)
    if parse_tensor_name(name) is None and name in graph.nodes:
        raise PruneError(
            f"feed {name!r} is an operation; feeds must be tensors, e.g. {name + ':0'!r}"
        )
    return _tensor(graph, name, "feed")


def _fetch(graph: Graph, item: Any) -> TensorRef | str:
    name = _text(item)
    if name in graph.nodes and parse_tensor_name(name) is None:
        return name  # an operation: run it, return nothing for it
    if parse_tensor_name(name) is None:
        raise UnknownNameError(f"fetch {name!r} is not in {graph.name}{graph.suggest(name)}")
    return _tensor(graph, name, "fetch")


def _describe(graph: Graph, name: str) -> str:
    node = graph.nodes.get(name)
    return f"{name} ({node.op if node is not None else 'missing'})"


def _is_unfed_input(graph: Graph, node: Node) -> bool:
    return node.op in ("Placeholder", "_Arg") and node.name not in graph.bindings


def prune(graph: Graph, feeds: Any, fetches: Any) -> PrunedFunction:
    """The subgraph of ``graph`` that computes ``fetches`` from ``feeds``.

    ``feeds``: tensor names (``"x:0"``), alone or nested in lists/dicts.
    ``fetches``: tensor or operation names, nested as the result should be.
    """
    feed_refs = [_feed(graph, f) for f in leaves(feeds)]
    fed = set(feed_refs)
    if len(fed) != len(feed_refs):
        raise PruneError("a tensor is fed twice: " + ", ".join(sorted({r.name for r in feed_refs
                                                                      if feed_refs.count(r) > 1})))
    fully_fed = set()
    for ref in fed:
        count = graph.num_outputs(graph.nodes[ref.node])
        if count and all(TensorRef(ref.node, i) in fed for i in range(count)):
            fully_fed.add(ref.node)
    structure = map_structure(lambda item: _fetch(graph, item), fetches)
    parent: dict[str, str | None] = {}
    shown: dict[str, str] = {}  # fetched node -> the fetch as errors name it
    queue: deque[str] = deque()
    for item in leaves(structure):
        name = item.node if isinstance(item, TensorRef) else item
        if isinstance(item, TensorRef) and item in fed:
            continue
        if name not in parent:
            parent[name] = None
            shown[name] = item.name if isinstance(item, TensorRef) else name
            queue.append(name)
    order = []
    nodes = graph.nodes
    while queue:
        name = queue.popleft()
        node = nodes.get(name)
        if node is None:
            raise PruneError(f"{_describe(graph, parent[name] or name)} uses {name!r}, which is not in {graph.name}")
        order.append(name)
        for ref in node.inputs:
            if ref not in fed and ref.node not in parent:
                parent[ref.node] = name
                queue.append(ref.node)
        for control in node.control_inputs:
            if control not in fully_fed and control not in parent:
                parent[control] = name
                queue.append(control)
    for name in order:
        if _is_unfed_input(graph, nodes[name]):
            path = [name]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])  # type: ignore[arg-type]
            steps = [_describe(graph, n) for n in reversed(path)]
            if len(steps) > MAX_PATH:  # keep both ends of a long path readable
                steps = [*steps[:4], f"... {len(steps) - 8} more ...", *steps[-4:]]
            chain = " <- ".join(steps)
            kind = "placeholder" if nodes[name].op == "Placeholder" else "function input"
            error = PruneError(
                f"Unable to lift tensor {shown[path[-1]]!r} because it depends transitively on {kind} {name!r} "
                f"via at least one path, e.g.: {chain}. Feed {name + ':0'!r} or fetch something that "
                "does not need it."
            )
            error.path = list(reversed(path))  # node names, fetch first: what a viewer highlights
            raise error
    needed = set(order)
    make = graph.library.pruned_type or PrunedFunction
    return make(graph, feed_refs, structure, [n for n in nodes if n in needed])


class PrunedFunction:
    """A pruned subgraph: its inputs (the feeds), outputs (the fetches), nodes,
    the variables it reads, and a self-contained GraphDef of it.

    Data only; pruning what ``sm_explorer.load`` returns makes the subclass in
    ``sm_explorer.loaded`` that can also be called and saved."""

    def __init__(self, graph: Graph, feeds: list[TensorRef], fetches: Any, nodes: list[str]) -> None:
        self.graph = graph
        self.feeds = feeds
        self.structured_fetches = fetches  # leaves: TensorRef (tensor) or str (operation)
        self.nodes: tuple[str, ...] = tuple(nodes)
        self.node_set = frozenset(nodes)
        self.notes: list[str] = []  # what the last graph_def() could not make self-contained

    # ---- names in the exported GraphDef ----

    @cached_property
    def feed_names(self) -> dict[TensorRef, str]:
        """Feed -> the placeholder tensor that stands for it in ``graph_def()``: the
        feed's own name when its node is cut off, else ``node_feed_<index>:0``."""
        taken = set(self.graph.nodes)
        out = {}
        for ref in self.feeds:
            if ref.index == 0 and ref.known and ref.node not in self.node_set:
                out[ref] = f"{ref.node}:0"
                continue
            base, i = f"{ref.node}_feed_{ref.index}", 0
            name = base
            while name in taken:
                i += 1
                name = f"{base}_{i}"
            taken.add(name)
            out[ref] = f"{name}:0"
        return out

    def _output_name(self, item: TensorRef | str) -> str:
        if isinstance(item, TensorRef) and item in self.feed_names:
            return self.feed_names[item]
        return item.name if isinstance(item, TensorRef) else item

    # ---- specs ----

    @cached_property
    def inputs(self) -> list[TensorSpec]:
        """One spec per feed, in feed order, named as in ``graph_def()``."""
        out = []
        for ref in self.feeds:
            t = self.graph.tensor(ref)
            out.append(TensorSpec(t.dtype, t.shape, self.feed_names[ref]))
        return out

    @cached_property
    def structured_outputs(self) -> Any:
        """The fetches' structure: a spec for each tensor, None for each operation."""

        def spec(item: TensorRef | str) -> TensorSpec | None:
            if not isinstance(item, TensorRef):
                return None
            t = self.graph.tensor(item)
            return TensorSpec(t.dtype, t.shape, self._output_name(item))

        return map_structure(spec, self.structured_fetches)

    @property
    def outputs(self) -> list[TensorSpec]:
        return [s for s in specs.flatten(self.structured_outputs) if isinstance(s, TensorSpec)]

    @property
    def fetch_names(self) -> Any:
        """The fetches' structure with each leaf's name in ``graph_def()``."""
        return map_structure(self._output_name, self.structured_fetches)

    # ---- variables ----

    @cached_property
    def captures(self) -> dict[str, Binding]:
        """Node in the subgraph -> the variable or object it stands for."""
        return {name: b for name, b in self.graph.bindings.items() if name in self.node_set}

    @property
    def variables(self) -> list[Binding]:
        """The variables the subgraph uses (object, Variable, checkpoint key), once each."""
        seen: list[Binding] = []
        for binding in self.captures.values():
            if binding.variable is not None or binding.checkpoint_key is not None:
                if binding not in seen:
                    seen.append(binding)
        return seen

    @property
    def checkpoint_keys(self) -> list[str]:
        return sorted({b.checkpoint_key for b in self.variables if b.checkpoint_key})

    # ---- export ----

    def graph_def(self, variables: str = "placeholders", *, clear_devices: bool = False) -> graph_pb2.GraphDef:
        """A self-contained GraphDef: feeds become Placeholders, variable reads become
        Placeholders (``variables="placeholders"``) or Consts holding the checkpoint
        values (``"constants"``). See ``variable_inputs`` for the extra placeholders."""
        from sm_explorer.graph.export import to_graph_def

        return to_graph_def(self, variables, clear_devices=clear_devices)

    @property
    def variable_inputs(self) -> dict[str, Binding]:
        """Placeholder tensor -> the variable whose value it takes, for
        ``graph_def(variables="placeholders")`` (Consts of the same names otherwise)."""
        from sm_explorer.graph.export import plan_variables

        return {f"{name}:0": binding for name, binding in plan_variables(self).value_nodes().items()}

    def variable_values(self) -> dict[str, Any]:
        """``variable_inputs`` tensor -> its saved value (NumPy), ready to feed."""
        from sm_explorer.graph.export import variable_values

        return variable_values(self)

    def __repr__(self) -> str:
        ins = ", ".join(s.name or "?" for s in self.inputs)
        outs = ", ".join(s.name or "?" for s in self.outputs)
        return f"<sm_explorer.PrunedFunction ({ins}) -> ({outs}) nodes={len(self.nodes)}>"
