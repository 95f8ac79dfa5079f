"""A graph of the model as a picture: readable at any size.

Big graphs fold by name scope (see ``collapse.py``); bookkeeping nodes (NoOp,
single-use Const, Identity and ReadVariableOp) fold into their consumer
unless ``show_all``; function call sites name their callees so a viewer can
drill down; edges carry dtype and shape where known (as tooltips: labels
would make graphviz add ranks and take ten times as long; ``edge_labels=True``
draws them); nodes are coloured by op category with a legend; feeds, fetches,
a kept (pruned) set, search hits and a selection can be highlighted.

Interactive front ends lay a view out once with ``to_dot(marks=False)`` and
apply highlights themselves to the boxes ``box_ids`` names, so a click never
runs graphviz.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sm_explorer.graph import Graph, Node
from sm_explorer.graph.nodes import node_of
from sm_explorer.render.collapse import Layout, plan
from sm_explorer.render.dot import label_text, quote
from sm_explorer.render.view_base import View

__all__ = ["GraphView", "Highlight", "CATEGORY_COLOURS"]

CATEGORY_COLOURS = {
    "math": "#cfe2f3", "nn": "#f9cb9c", "array": "#d9ead3", "control_flow": "#ead1dc",
    "variable": "#fff2cc", "io": "#f4cccc", "function_call": "#b4a7d6", "string": "#d0e0e3",
    "constant": "#eeeeee", "input": "#b6d7a8", "other": "#ffffff",
}
FOLDABLE = {"Const", "Identity", "ReadVariableOp", "NoOp"}


@dataclass
class Highlight:
    """What to make stand out. Names are node names (tensor names are accepted)."""

    feeds: set[str] = field(default_factory=set)
    fetches: set[str] = field(default_factory=set)
    kept: set[str] | None = None  # a pruned subgraph: everything else is dimmed
    hits: set[str] = field(default_factory=set)  # search results
    selected: str | None = None

    def normalized(self) -> Highlight:
        def nodes(names: Iterable[str]) -> set[str]:
            return {node_of(n) for n in names}

        return Highlight(nodes(self.feeds), nodes(self.fetches),
                         None if self.kept is None else nodes(self.kept), nodes(self.hits),
                         node_of(self.selected) if self.selected else None)


GRID_FROM = 16  # this many alike boxes are stacked in a grid, not laid in one row


def _grid(ids: list[str], edges: dict[tuple[str, str], list[str]], dot_id: dict[str, str]) -> list[str]:
    """Invisible edges that stack alike boxes in columns: the same inputs and consumers,
    or all the boxes nothing flows into, or all that flow nowhere. Graphviz puts such
    siblings side by side on one rank, so a TF2 outer graph's hundreds of variable
    scopes become a strip tens of thousands of pixels wide."""
    inputs: dict[str, set[str]] = {i: set() for i in ids}
    outputs: dict[str, set[str]] = {i: set() for i in ids}
    for src, dst in edges:
        outputs[dot_id[src]].add(dot_id[dst])
        inputs[dot_id[dst]].add(dot_id[src])
    alike: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}
    for i in ids:
        alike.setdefault((frozenset(inputs[i]), frozenset(outputs[i])), []).append(i)
    sources = [i for i in ids if not inputs[i]]  # graphviz ranks these first, all in one row
    sinks = [i for i in ids if not outputs[i]]  # and these last
    lines = []
    for group in [*alike.values(), sources, sinks]:  # every chain runs forwards in ``ids``: no cycles
        if len(group) >= GRID_FROM:
            columns = max(8, int(math.sqrt(len(group) * 4)))
            lines += [f"  {group[k]} -> {group[k + columns]} [style=invis];" for k in range(len(group) - columns)]
    return lines


class GraphView(View):
    """``GraphView(graph).to_svg()``; ``expand``/``collapse`` scopes and re-render."""

    def __init__(self, graph: Graph, *, budget: int = 150, show_all: bool = False,
                 expanded: Iterable[str] = (), collapsed: Iterable[str] = (),
                 highlight: Highlight | None = None, edge_labels: bool = False) -> None:
        self.graph = graph
        self.budget = budget
        self.show_all = show_all
        self.edge_labels = edge_labels
        self.expanded = set(expanded)
        self.collapsed = set(collapsed)
        self.highlight = highlight or Highlight()
        self.ids: dict[str, str] = {}  # DOT id -> unit ("node name" or "scope:path")
        self.box_of: dict[str, str] = {}  # node name -> DOT id of the box that shows it
        self._planned: tuple[tuple, Layout] | None = None  # (settings, the layout they give)

    def expand(self, scope: str) -> GraphView:
        self.collapsed.discard(scope)
        self.expanded.add(scope)
        return self

    def collapse(self, scope: str) -> GraphView:
        self.expanded.discard(scope)
        self.collapsed.add(scope)
        return self

    def layout(self) -> Layout:
        """Which boxes show which nodes, planned once per setting of budget, folding and scopes
        (a pane counts the boxes before it draws them: that must not plan twice)."""
        key = (self.budget, self.show_all, frozenset(self.expanded), frozenset(self.collapsed))
        if self._planned is None or self._planned[0] != key:
            self._planned = (key, self._plan())
        return self._planned[1]

    def _plan(self) -> Layout:
        hidden: set[str] = set()
        if not self.show_all:
            captured = self.graph.captures
            for node in self.graph:
                if node.op in FOLDABLE or node.name in captured:
                    if node.op == "NoOp" or len({c for c, i in self.graph.consumers(node.name) if i >= 0}) == 1:
                        hidden.add(node.name)
        ops = {node.name: node.op for node in self.graph}
        return plan(self.graph.scopes(), self.budget, self.expanded, self.collapsed, hidden, ops)

    # ---- folding ----

    def _folded(self, layout: Layout, marks: bool) -> dict[str, str]:
        """Node -> the node it is folded into (only nodes shown on their own fold).

        With ``marks``, marked nodes stay unfolded; without, the boxes do not depend on
        the marks, so the layout can be reused while they change."""
        if self.show_all:
            return {}
        marked = self.highlight.normalized()
        keep = (marked.feeds | marked.fetches | ({marked.selected} if marked.selected else set())) if marks else set()
        folded: dict[str, str] = {}
        captured = self.graph.captures
        for node in self.graph:
            foldable = node.op in FOLDABLE or node.name in captured  # captured variables fold into their reader
            if not foldable or layout.unit_of.get(node.name) != node.name or node.name in keep:
                continue
            users = {c for c, i in self.graph.consumers(node.name) if i >= 0}
            if node.op == "NoOp":
                folded[node.name] = ""
            elif len(users) == 1:
                folded[node.name] = next(iter(users))
        return folded

    # ---- DOT ----

    def box_ids(self, names: Iterable[str]) -> list[str]:
        """The DOT ids of the boxes that show these nodes (tensor names are accepted), as
        laid out by the last ``to_dot``; names not drawn are left out."""
        ids = {self.box_of.get(node_of(n)) for n in names}
        ids.discard(None)
        return sorted(ids)  # type: ignore[arg-type]

    def to_dot(self, marks: bool = True) -> str:
        """The DOT source; ``marks=False`` leaves the highlights out (see the module doc)."""
        graph = self.graph
        layout = self.layout()
        folded = self._folded(layout, marks)
        marked = self.highlight.normalized() if marks else Highlight()

        def unit(name: str) -> str | None:
            seen = 0
            while name in folded and seen < 64:  # follow folds to the node that shows them
                name = folded[name]
                seen += 1
            return layout.unit_of.get(name) if name else None

        members: dict[str, list[Node]] = {}
        extras: Counter[str] = Counter()
        unit_of = {node.name: unit(node.name) for node in graph}  # folds followed once per node
        for node in graph:
            target = unit_of[node.name]
            if target is None:
                continue
            if node.name in folded:
                extras[target] += 1
            else:
                members.setdefault(target, []).append(node)
        dot_id = {u: f"n{i}" for i, u in enumerate(sorted(members))}
        self.ids = {v: k for k, v in dot_id.items()}
        self.box_of = {name: dot_id[target] for name, target in unit_of.items() if target in dot_id}
        calls = {site.node: site for site in graph.call_sites()}
        lines = [
            # nslimit bounds graphviz's network simplex (x positions): same pictures here, and a
            # view whose layout took 2.5 s takes 0.2 s
            "digraph G {", "  rankdir=TB;", "  newrank=true;", "  nslimit=5;",
            '  node [fontname="Helvetica", fontsize=10, style="filled,rounded", shape=box, penwidth=1];',
            '  edge [fontname="Helvetica", fontsize=8, color="#666666", arrowsize=0.6];',
        ]
        used_categories: set[str] = set()
        for u, nodes in sorted(members.items()):
            lines.append(self._unit_line(u, dot_id[u], nodes, extras[u], calls, marked, used_categories))
        lines += self._edges(members, unit_of.get, dot_id, marked)
        lines += self._legend(used_categories)
        lines.append("}")
        return "\n".join(lines)

    def _unit_line(self, u: str, ident: str, nodes: list[Node], extra: int, calls: dict, marked: Highlight,
                   used: set[str]) -> str:
        names = {n.name for n in nodes}
        if u.startswith("scopes:"):
            parent, _, base = u[len("scopes:"):].rpartition("/")
            text = f"{base}* scopes\n{len(nodes)} nodes" + (f"\nin {label_text(parent, 40)}" if parent else "")
            category = Counter(n.category for n in nodes).most_common(1)[0][0]
            attrs = {"shape": "box3d", "tooltip": f"scopes {base}, {base}_1, ... ({len(nodes)} nodes)"}
        elif u.startswith("vars:"):
            scopes = len({n.name.split("/")[0] for n in nodes})
            text = f"variable bookkeeping\n{scopes} scopes\n{len(nodes) + extra} nodes"
            category = "variable"
            attrs = {"shape": "box3d", "tooltip": f"the variables' handles and their bookkeeping ({scopes} scopes)"}
        elif u.startswith("ops:"):
            scope, _, op = u[len("ops:"):].rpartition("/")
            scope = "" if scope == "*" else scope
            text = f"{len(nodes)} × {op}" + (f"\nin {label_text(scope, 40)}" if scope else "")
            category = nodes[0].category
            attrs = {"shape": "box3d", "tooltip": f"{len(nodes)} {op} nodes" + (f" in {scope}" if scope else "")}
        elif u.startswith("scope:"):
            path = u[len("scope:"):]
            ops = Counter(n.op for n in nodes).most_common(3)
            total = len(nodes) + extra
            text = f"{label_text(path.rsplit('/', 1)[-1], 40)}\n{total} nodes\n" + ", ".join(
                f"{op}×{n}" for op, n in ops)
            category = Counter(n.category for n in nodes).most_common(1)[0][0]
            attrs = {"shape": "box3d", "tooltip": f"scope {path} ({total} nodes)"}
        else:
            node = nodes[0]
            category = node.category
            short = u.rsplit("/", 1)[-1]
            text = label_text(short, 40) + ("" if short == node.op else f"\n{node.op}")
            site = calls.get(node.name)
            if site is not None:
                text += "\n" + "\n".join(f"{attr}: {label_text(fn, 40)}" for attr, fn in site.callees[:4])
                attrs = {"shape": "component"}
            else:
                attrs = {}
            if extra:
                text += f"\n(+{extra} folded)"
            attrs["tooltip"] = node.name
        used.add(category)
        fill = CATEGORY_COLOURS.get(category, "#ffffff")
        style = {"fillcolor": fill}
        if marked.kept is not None and not names & (marked.kept | marked.feeds):
            style = {"fillcolor": "#f7f7f7", "fontcolor": "#aaaaaa", "color": "#cccccc"}
        if names & marked.hits:
            style.update(color="#e69138", penwidth="3")
        if names & marked.feeds:
            style.update(color="#38761d", penwidth="3")
        if names & marked.fetches:
            style.update(color="#cc0000", penwidth="3")
        if marked.selected in names:
            style.update(color="#1155cc", penwidth="4")
        attrs.update(style)
        body = ", ".join(f"{k}={quote(str(v))}" for k, v in attrs.items())
        return f"  {ident} [id={quote(ident)}, label={quote(text)}, {body}];"

    def _edges(self, members: dict, unit, dot_id: dict[str, str], marked: Highlight) -> list[str]:  # type: ignore[no-untyped-def]
        edges: dict[tuple[str, str], list[str]] = {}
        for node in self.graph:  # folded nodes too: their inputs now enter the node they fold into
            u = unit(node.name)
            if u is None or u not in dot_id:
                continue
            for ref in node.inputs:
                src = unit(ref.node)
                if src is None or src == u or src not in dot_id:
                    continue
                edges.setdefault((src, u), []).append(ref.name)
        near = set()
        if marked.selected:
            sel = marked.selected
            near = {unit(sel)}
        out = []
        for (src, dst), tensors in sorted(edges.items()):
            label = self._edge_label(tensors)
            extra = ', color="#1155cc", penwidth=2' if near & {src, dst} else ""
            tip = label or "edge"
            if self.edge_labels:
                extra += f", label={quote(label)}"
            out.append(f"  {dot_id[src]} -> {dot_id[dst]} [tooltip={quote(tip)}{extra}];")
        return out + _grid(sorted(dot_id.values(), key=lambda i: int(i[1:])), edges, dot_id)

    def _edge_label(self, tensors: list[str]) -> str:
        unique = sorted(set(tensors))
        if len(unique) > 1:
            return f"×{len(unique)}"
        tensor = self.graph.find_tensor(unique[0])
        if tensor is None or tensor.shape is None and tensor.dtype.startswith("?"):
            return ""
        if tensor.shape is None:
            return f"{tensor.dtype} ?"
        return f"{tensor.dtype} [" + ",".join("?" if d is None else str(d) for d in tensor.shape) + "]"

    def _legend(self, used: set[str]) -> list[str]:
        if not used:
            return []
        lines = ['  subgraph cluster_legend { label="op categories"; fontsize=9; color="#bbbbbb";']
        for i, category in enumerate(sorted(used)):
            lines.append(f"    legend{i} [label={quote(category.replace('_', ' '))}, "
                         f"fillcolor={quote(CATEGORY_COLOURS.get(category, '#ffffff'))}, fontsize=8];")
        lines.append("  }")
        return lines

    def __repr__(self) -> str:
        return f"<GraphView {self.graph.name!r} ({len(self.graph)} nodes, budget {self.budget})>"
