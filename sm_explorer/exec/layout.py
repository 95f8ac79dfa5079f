"""Which flat output index a function-body reference like ``split:output:1`` means.

Graph nodes list their outputs flat (``node:3``), but function bodies name
them by output argument (``node:output:1``). An argument may hold several
tensors (``number_attr`` or ``type_list_attr``), so the flat index is the
sizes of the arguments before it plus the index. Op signatures come from the
model's own stripped op list, then from callee function signatures.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sm_explorer._proto import graph_pb2

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["OpSignatures", "CALL_OPS", "FALLBACK_OUTPUTS"]

CALL_OPS = {"PartitionedCall", "StatefulPartitionedCall"}

# Output arguments of common multi-output ops, for models whose op list is
# stripped: (name, number_attr or type_list_attr or "").
FALLBACK_OUTPUTS: dict[str, list[tuple[str, str]]] = {
    "Split": [("output", "num_split")],
    "SplitV": [("output", "num_split")],
    "Unpack": [("output", "num")],
    "IdentityN": [("output", "T")],
    "ShapeN": [("output", "N")],
    "PartitionedCall": [("output", "Tout")],
    "StatefulPartitionedCall": [("output", "Tout")],
    "If": [("output", "Tout")],
    "StatelessIf": [("output", "Tout")],
    "Case": [("output", "Tout")],
    "StatelessCase": [("output", "Tout")],
    "While": [("output", "T")],
    "StatelessWhile": [("output", "T")],
    "FusedBatchNorm": [(n, "") for n in ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2")],
    "FusedBatchNormV3": [
        (n, "") for n in ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3")
    ],
    "Switch": [("output_false", ""), ("output_true", "")],
    "Merge": [("output", ""), ("value_index", "")],
    "Unique": [("y", ""), ("idx", "")],
    "TopKV2": [("values", ""), ("indices", "")],
    "StringSplitV2": [("indices", ""), ("values", ""), ("shape", "")],
    "ParseExampleV2": [
        ("sparse_indices", "num_sparse"),
        ("sparse_values", "sparse_types"),
        ("sparse_shapes", "num_sparse"),
        ("dense_values", "Tdense"),
        ("ragged_values", "ragged_value_types"),
        ("ragged_row_splits", "ragged_split_types"),
    ],
    "LookupTableExportV2": [("keys", ""), ("values", "")],
    "TensorListPopBack": [("output_handle", ""), ("tensor", "")],
}


def _count(node: graph_pb2.NodeDef, spec: str) -> int:
    if not spec:
        return 1
    attr = node.attr.get(spec)
    if attr is None:
        return 1
    kind = attr.WhichOneof("value")
    if kind == "i":
        return max(int(attr.i), 0)
    if kind == "list":
        return len(attr.list.type)
    return 1


class OpSignatures:
    """Output layouts of every op a model uses."""

    def __init__(self, model: SavedModel) -> None:
        self.model = model

    @cached_property
    def _op_defs(self) -> dict[str, graph_pb2.OpDef]:
        return {op.name: op for op in self.model.meta_graph.meta_info_def.stripped_op_list.op}

    def layout(self, node: graph_pb2.NodeDef) -> list[tuple[str, int]]:
        """(output argument name, number of tensors) in order."""
        function = self.model.functions.get(node.op)
        if function is not None:
            return [(arg.name, 1) for arg in function.signature.output_arg]
        op_def = self._op_defs.get(node.op)
        if op_def is not None:
            return [(arg.name, _count(node, arg.number_attr or arg.type_list_attr)) for arg in op_def.output_arg]
        if node.op in FALLBACK_OUTPUTS:
            return [(name, _count(node, spec)) for name, spec in FALLBACK_OUTPUTS[node.op]]
        return []

    def flat_index(self, node: graph_pb2.NodeDef, arg: str, index: int) -> int | None:
        """The flat output index of ``arg:index``, or None if the op is unknown."""
        start = 0
        for name, count in self.layout(node):
            if name == arg:
                return start + index if 0 <= index < max(count, 1) else None
            start += count
        return None

    def num_outputs(self, node: graph_pb2.NodeDef) -> int | None:
        layout = self.layout(node)
        return sum(c for _, c in layout) if layout else None
