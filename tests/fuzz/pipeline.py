"""The whole pipeline a fuzzed model goes through, stage by stage.

Every stage a user can reach from a file is here; a stage that is not built
yet is simply absent. Allowed outcomes are success or an error of our family
(``SavedModelError``; ``ValueError`` for tag mismatches, as TensorFlow).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sm_explorer
from sm_explorer.core.summary import open_all, show_data, variable_rows
from sm_explorer.render.text import show_text

__all__ = ["run_pipeline", "ALLOWED", "STAGES"]

ALLOWED = (sm_explorer.SavedModelError,)


def _load(path: Path, state: dict) -> None:
    models = open_all(path)
    state["models"] = models
    state["loaded"] = sm_explorer.load(path, tags=models[0].tags)


def _show(path: Path, state: dict) -> None:
    json.dumps(show_data(state["models"]))
    show_text(state["models"])
    for model in state["models"]:
        variable_rows(model)


def _values(path: Path, state: dict) -> None:
    # Each variable on its own: one bad variable must not hide the others.
    for model in state["models"]:
        for variable in model.variables:
            try:
                variable.numpy()
            except ALLOWED:
                pass
        if model.checkpoint is not None:
            for key in model.checkpoint.entries:
                try:
                    model.checkpoint.read(key)
                except ALLOWED:
                    pass


def _objects(path: Path, state: dict) -> None:
    loaded = state["loaded"]
    for _, obj in loaded.walk():
        for fn in getattr(obj, "concrete_functions", []) or []:
            fn.inputs, fn.outputs, fn.signature_text()
    _ = loaded.variables, loaded.trainable_variables


def _graphs(path: Path, state: dict) -> None:
    from sm_explorer import graph

    model = state["models"][0]
    state["graph"] = graph.graph_of(model)
    for name in list(model.functions)[:50]:
        try:
            graph.function_graph(model, name).call_sites()
        except ALLOWED:
            pass
    for key in list(model.signatures)[:5]:
        try:
            graph.flatten(model, key)
        except ALLOWED:
            pass


def _view(path: Path, state: dict) -> None:
    from sm_explorer.render.objects_view import ObjectGraphView
    from sm_explorer.render.view_for import view_for

    model = state["models"][0]
    view_for(model).to_dot()  # the layout itself is graphviz's job; the DOT is ours
    ObjectGraphView(model).to_dot()


def _first_signature(state: dict) -> Any:
    signatures = state["models"][0].signatures
    return signatures[sorted(signatures)[0]] if signatures else None


def _prune(path: Path, state: dict) -> None:
    from sm_explorer.graph import prune_signature

    signature = _first_signature(state)  # of a core model (open_all): plain data, pruned by the graph layer
    if signature is not None:
        feeds = [s.name for s in signature.inputs.values() if s.name]
        fetches = [s.name for s in signature.outputs.values() if s.name]
        if fetches:
            prune_signature(signature, feeds, fetches).graph_def(variables="placeholders")


def _execute(path: Path, state: dict) -> None:
    from sm_explorer.core.samples import sample_inputs
    from sm_explorer.exec.interpreter import Limits
    from sm_explorer.exec.session import Session

    signature = _first_signature(state)
    if signature is None:
        return
    limits = Limits(max_elements=1 << 22, max_iterations=1000, max_depth=32, max_seconds=2.0)
    session = Session(state["models"][0], limits=limits)
    try:
        inputs = sample_inputs(signature.inputs)
    except ValueError:  # a dtype no sample can be made of (resource, variant): nothing to run
        return
    session.run_signature(signature, inputs)


STAGES: list[tuple[str, Callable[[Path, dict], None]]] = [
    ("load", _load),
    ("show", _show),
    ("values", _values),
    ("objects", _objects),
    ("graph", _graphs),
    ("view", _view),
    ("prune", _prune),
    ("execute", _execute),
]


def run_pipeline(path: Path) -> str:
    """Run every stage; return the first stage that raised an allowed error
    ("ok" if none did). After a successful load every later stage runs even if
    an earlier one failed cleanly, so each gets the mutant. Any other exception
    propagates: it is a bug."""
    state: dict = {}
    first = "ok"
    for name, stage in STAGES:
        try:
            stage(path, state)
        except ALLOWED:
            if name == "load":
                return name
            first = name if first == "ok" else first
    return first
