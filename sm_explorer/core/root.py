"""The root object ``load`` returns, plus what TensorFlow adds to it.

For TF2 models it is node 0 of the object graph; TF1 models have no object
graph, so the root is an empty object whose variables come from the graph's
collections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_explorer.core.objects import Model, UserObject, Variable

if TYPE_CHECKING:
    from sm_explorer.core.functions import Signature
    from sm_explorer.core.model import SavedModel

__all__ = ["Loaded"]


class Loaded(UserObject):
    """The root object: children as attributes, and ``signatures``,
    ``tensorflow_version``, ``variables`` as TF's loaded object has them."""

    def __init__(self, model: Model, node_id: int | None, path: str = "", identifier: str = "") -> None:
        super().__init__(model, node_id, path, identifier)

    @property
    def saved_model(self) -> SavedModel:
        """The on-disk anatomy: protos, checkpoint, files (sm_explorer only)."""
        assert self._model is not None
        return self._model

    @property
    def signatures(self) -> dict[str, Signature]:
        return self.saved_model.signatures

    @property
    def tensorflow_version(self) -> str:
        return self.saved_model.tensorflow_version

    @property
    def tensorflow_git_version(self) -> str:
        return self.saved_model.tensorflow_git_version

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

    def __repr__(self) -> str:
        model = self.saved_model
        return (
            f"<sm_explorer.Loaded {model.kind} {str(model.files.root)!r} tags={model.tags} "
            f"signatures={list(self.signatures)} variables={len(model.variables)}>"
        )
