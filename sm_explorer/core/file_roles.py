"""The anatomy of a SavedModel in plain words: its files, its parts, its totals.

Used by the explorer's Overview pane and the teaching notebooks, so every
part comes with a one-sentence explanation for people learning the format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["FileInfo", "Anatomy", "anatomy", "EXPLANATIONS"]

EXPLANATIONS: dict[str, str] = {
    "saved_model.pb": "The program: one MetaGraphDef per tag set, each holding a graph, its "
    "function library, the signatures and (TF2) the object graph. A binary protobuf.",
    "saved_model.pbtxt": "The same program as saved_model.pb, written as a text protobuf.",
    "variables/variables.index": "The checkpoint's table of contents: for every saved tensor, its "
    "dtype, shape, which data file holds it, where, and a checksum.",
    "variables/variables.data": "The checkpoint's data: the raw bytes of every variable, "
    "concatenated. Split into shards for big models.",
    "assets/": "Extra files the graph reads at run time, such as vocabularies.",
    "assets.extra/": "Files for the serving system, not read by TensorFlow itself.",
    "fingerprint.pb": "Hashes that identify this SavedModel (TF 2.12 and later).",
    "keras_metadata.pb": "Keras 2's description of the layers, for rebuilding the Keras model.",
    "debug/": "Source locations of the graph's operations (saved with save_debug_info=True).",
}


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    role: str
    explanation: str


@dataclass(frozen=True)
class Anatomy:
    files: list[FileInfo]
    tags: list[str]
    tensorflow_version: str
    kind: str
    num_signatures: int
    num_variables: int
    num_parameters: int
    num_functions: int
    num_nodes: int
    checkpoint_problem: str | None


def _role(path: str) -> str:
    if path in ("saved_model.pb", "saved_model.pbtxt", "fingerprint.pb", "keras_metadata.pb"):
        return path
    if path == "variables/variables.index":
        return path
    if path.startswith("variables/variables.data"):
        return "variables/variables.data"
    for folder in ("assets.extra/", "assets/", "debug/"):
        if path.startswith(folder):
            return folder
    return ""


def anatomy(model: SavedModel) -> Anatomy:
    files = []
    for path, size in model.files.listing():
        role = _role(path)
        files.append(FileInfo(path, size, role, EXPLANATIONS.get(role, "Not part of the SavedModel format.")))
    params = 0
    for v in model.variables:
        if v.shape is not None and None not in v.shape:
            params += math.prod(v.shape)  # type: ignore[arg-type]
    return Anatomy(
        files=files,
        tags=model.tags,
        tensorflow_version=model.tensorflow_version,
        kind=model.kind,
        num_signatures=len(model.signatures),
        num_variables=len(model.variables),
        num_parameters=params,
        num_functions=len(model.functions),
        num_nodes=model.num_nodes,
        checkpoint_problem=model.checkpoint_problem,
    )
