"""Functions and signatures as they are described in a SavedModel.

A ``ConcreteFunction`` is one traced graph function (a FunctionDef in the
library) with its structured inputs and outputs. A ``Signature`` is a
SignatureDef: named input and output tensors, found in TF1 and TF2 models
alike; in TF2 it also points at the concrete function that implements it.
Both are plain data here; ``sm_explorer.loaded`` subclasses them to call and prune.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_explorer._proto import objects_pb2, saved_model_pb2
from sm_explorer.core import specs
from sm_explorer.core.specs import TensorSpec

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["ConcreteFunction", "Signature"]


def _args_and_kwargs(value: Any) -> tuple[tuple, dict] | None:
    """A canonical input signature is ``(args, kwargs)``; anything else is not trusted."""
    if isinstance(value, tuple) and len(value) == 2:
        args, kwargs = value
        if isinstance(args, (tuple, list)) and isinstance(kwargs, dict):
            return tuple(args), kwargs
    return None


class ConcreteFunction:
    """One traced function: its FunctionDef name, input signature and outputs."""

    def __init__(self, model: SavedModel, name: str, proto: objects_pb2.SavedConcreteFunction | None) -> None:
        self._model = model
        self.name = name
        self.bound_inputs: list[int] = list(proto.bound_inputs) if proto else []
        self.structured_input_signature: Any = _args_and_kwargs(
            specs.decode(proto.canonicalized_input_signature) if proto else None
        )
        self.structured_outputs: Any = specs.decode(proto.output_signature) if proto else None

    @property
    def inputs(self) -> list[TensorSpec]:
        """The tensor inputs in call order (captured values are not listed)."""
        return [s for s in specs.flatten(self.structured_input_signature) if isinstance(s, TensorSpec)]

    @property
    def outputs(self) -> list[TensorSpec]:
        return [s for s in specs.flatten(self.structured_outputs) if isinstance(s, TensorSpec)]

    @property
    def function_def(self) -> Any:
        """The FunctionDef proto of this function's body (None if missing)."""
        return self._model.functions.get(self.name)

    @property
    def captured(self) -> list[Any]:
        """The objects (variables, resources, constants) this function captures."""
        return [self._model.object_by_id(i) for i in self.bound_inputs]

    def signature_text(self) -> str:
        """A one-line, Python-like description of how to call this function."""
        args, kwargs = self.structured_input_signature or ((), {})
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"({', '.join(parts)})"

    @property
    def model(self) -> SavedModel:
        return self._model

    def __repr__(self) -> str:
        return f"<sm_explorer.ConcreteFunction {self.name}{self.signature_text()}>"


class Signature:
    """A SignatureDef: named inputs and outputs (and, for TF2, its function)."""

    def __init__(self, model: SavedModel, key: str, proto: saved_model_pb2.SignatureDef) -> None:
        self._model = model
        self.key = key
        self.method_name = proto.method_name
        self.inputs: dict[str, TensorSpec] = {
            k: specs.from_tensor_info(v) for k, v in sorted(proto.inputs.items())
        }
        self.outputs: dict[str, TensorSpec] = {
            k: specs.from_tensor_info(v) for k, v in sorted(proto.outputs.items())
        }
        self.defaults = dict(proto.defaults)
        self.concrete_function: ConcreteFunction | None = None

    @property
    def structured_input_signature(self) -> tuple[tuple[()], dict[str, TensorSpec]]:
        return (), {k: TensorSpec(s.dtype, s.shape, k) for k, s in self.inputs.items()}

    @property
    def structured_outputs(self) -> dict[str, TensorSpec]:
        return {k: TensorSpec(s.dtype, s.shape, k) for k, s in self.outputs.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "method_name": self.method_name,
            "inputs": {k: v.to_json() for k, v in self.inputs.items()},
            "outputs": {k: v.to_json() for k, v in self.outputs.items()},
        }

    @property
    def model(self) -> SavedModel:
        return self._model

    def __repr__(self) -> str:
        ins = ", ".join(f"{k}: {v.dtype}{list(v.shape) if v.shape is not None else ''}" for k, v in self.inputs.items())
        outs = ", ".join(self.outputs)
        return f"<sm_explorer.Signature {self.key!r} ({ins}) -> {outs}>"
