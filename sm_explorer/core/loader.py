"""``load``: open a SavedModel the way ``tf.saved_model.load`` does, without TF.

Opening reads saved_model.pb and the checkpoint index only; weights stay on
disk (memory-mapped on first read). Nothing is executed and nothing is
written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from sm_explorer.core.files import locate, parse_saved_model
from sm_explorer.core.functions import Signature
from sm_explorer.core.model import SavedModel
from sm_explorer.core.objects import UserObject, Variable
from sm_explorer.errors import NotImplementedYetError, TagsNotFoundError

__all__ = ["load", "open_saved_model", "Loaded", "select_meta_graph"]


def _tag_sets(proto: Any) -> list[list[str]]:
    return [list(mg.meta_info_def.tags) for mg in proto.meta_graphs]


def select_meta_graph(proto: Any, tags: str | Iterable[str] | None, path: Any = None) -> int:
    """The index of the MetaGraph whose tag set equals ``tags`` (order ignored)."""
    available = _tag_sets(proto)
    if tags is None:
        if len(available) == 1:
            return 0
        raise TagsNotFoundError(
            f"has {len(available)} MetaGraphs, so tags= is needed; available tag sets: {available}",
            path,
        )
    wanted = {tags} if isinstance(tags, str) else set(tags)
    for index, tag_set in enumerate(available):
        if set(tag_set) == wanted:
            return index
    raise TagsNotFoundError(
        f"no MetaGraph has tags {sorted(wanted)}; available tag sets: {available}", path
    )


def open_saved_model(export_dir: str | os.PathLike[str], tags: str | Iterable[str] | None = None) -> SavedModel:
    """The pure-core view of one MetaGraph: protos, checkpoint index, objects."""
    files = locate(export_dir)
    proto = parse_saved_model(files)
    return SavedModel(files, proto, select_meta_graph(proto, tags, files.proto_path))


class Loaded(UserObject):
    """The object ``load`` returns: the root object, plus what TF adds to it."""

    def __init__(self, model: SavedModel) -> None:
        root = model.root
        super().__init__(model, 0 if root is not None else None, "", getattr(root, "identifier", ""))
        if root is not None:
            self._children = root._children
            model.objects[0] = self
            _repoint(model, root, self)
        self.signatures: dict[str, Signature] = model.signatures
        self.tensorflow_version = model.tensorflow_version
        self.tensorflow_git_version = model.tensorflow_git_version

    @property
    def saved_model(self) -> SavedModel:
        """The on-disk anatomy: protos, checkpoint, files (sm_explorer only)."""
        assert self._model is not None
        return self._model

    @property
    def variables(self) -> tuple[Variable, ...]:
        if self.saved_model.kind == "tf1":
            return tuple(self.saved_model.variables)
        return super().variables

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        if self.saved_model.kind == "tf1":
            return tuple(v for v in self.saved_model.variables if v.trainable)
        return super().trainable_variables

    @property
    def graph_def(self) -> Any:
        return self.saved_model.graph_def

    def prune(self, feeds: Any, fetches: Any) -> Any:
        raise NotImplementedYetError("pruning is not available in this version")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = self._children.get("__call__")
        if call is None:
            raise TypeError("this SavedModel's root object is not callable (it has no __call__)")
        return call(*args, **kwargs)

    def __repr__(self) -> str:
        model = self.saved_model
        return (
            f"<sm_explorer.Loaded {model.kind} {str(model.files.root)!r} tags={model.tags} "
            f"signatures={list(self.signatures)} variables={len(model.variables)}>"
        )


def _repoint(model: SavedModel, old: Any, new: Any) -> None:
    for obj in model.objects:
        for name, child in obj._children.items():
            if child is old:
                obj._children[name] = new


def load(export_dir: str | os.PathLike[str], tags: str | Iterable[str] | None = None) -> Loaded:
    """Open a SavedModel like ``tf.saved_model.load(export_dir, tags)``.

    Raises ``ValueError`` (``TagsNotFoundError``) when ``tags`` match no
    MetaGraph, and other ``SavedModelError``s for missing or broken files.
    """
    return Loaded(open_saved_model(export_dir, tags))
