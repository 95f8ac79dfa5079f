"""The whole pipeline a fuzzed model goes through, stage by stage.

Every stage a user can reach from a file is here; a stage that is not built
yet is simply absent. Allowed outcomes are success or an error of our family
(``SavedModelError``; ``ValueError`` for tag mismatches, as TensorFlow).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

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


STAGES: list[tuple[str, Callable[[Path, dict], None]]] = [
    ("load", _load),
    ("show", _show),
    ("values", _values),
    ("objects", _objects),
]


def run_pipeline(path: Path) -> str:
    """Run every stage; return the name of the stage that raised an allowed
    error ("ok" if none did). Any other exception propagates: it is a bug."""
    state: dict = {}
    for name, stage in STAGES:
        try:
            stage(path, state)
        except ALLOWED:
            return name
    return "ok"
