"""Ops that touch the outside world, and the scan that finds them in a model.

Executing a model never reads or writes files, prints, sleeps, uses the
network or runs Python unless the user allows it by name. ``RestoreV2`` is
the one exception the interpreter makes itself: it may read the model's own
checkpoint, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sm_explorer.core.model import SavedModel

__all__ = ["RISKY_OPS", "Finding", "scan", "why_refused"]

_FILES_READ = "reads files"
_FILES_WRITE = "writes files"
_PYTHON = "runs Python code"

# op -> what it does to the outside world
RISKY_OPS: dict[str, str] = {
    "ReadFile": _FILES_READ,
    "MatchingFiles": "lists files",
    "ImmutableConst": "maps a file into memory",
    "FixedLengthRecordReader": _FILES_READ,
    "FixedLengthRecordReaderV2": _FILES_READ,
    "TextLineReader": _FILES_READ,
    "TextLineReaderV2": _FILES_READ,
    "TFRecordReader": _FILES_READ,
    "TFRecordReaderV2": _FILES_READ,
    "WholeFileReader": _FILES_READ,
    "WholeFileReaderV2": _FILES_READ,
    "TFRecordDataset": _FILES_READ,
    "TFRecordDatasetV2": _FILES_READ,
    "TextLineDataset": _FILES_READ,
    "FixedLengthRecordDataset": _FILES_READ,
    "FixedLengthRecordDatasetV2": _FILES_READ,
    "Restore": _FILES_READ,
    "RestoreSlice": _FILES_READ,
    "RestoreV2": "reads a checkpoint (allowed only for the model's own variables)",
    "WriteFile": _FILES_WRITE,
    "Save": _FILES_WRITE,
    "SaveSlices": _FILES_WRITE,
    "SaveV2": _FILES_WRITE,
    "MergeV2Checkpoints": _FILES_WRITE,
    "WriteSummary": _FILES_WRITE,
    "WriteScalarSummary": _FILES_WRITE,
    "WriteHistogramSummary": _FILES_WRITE,
    "WriteImageSummary": _FILES_WRITE,
    "WriteAudioSummary": _FILES_WRITE,
    "WriteGraphSummary": _FILES_WRITE,
    "WriteRawProtoSummary": _FILES_WRITE,
    "CreateSummaryFileWriter": _FILES_WRITE,
    "CreateSummaryDbWriter": _FILES_WRITE,
    "DebugIdentity": _FILES_WRITE,
    "DebugIdentityV2": _FILES_WRITE,
    "DebugIdentityV3": _FILES_WRITE,
    "Print": "prints",
    "PrintV2": "prints",
    "PyFunc": _PYTHON,
    "PyFuncStateless": _PYTHON,
    "EagerPyFunc": _PYTHON,
    "Sleep": "sleeps",
    "SleepDataset": "sleeps",
    "RpcCall": "uses the network",
    "RpcClient": "uses the network",
    "RpcServer": "uses the network",
    "Recv": "uses the network",
    "Send": "uses the network",
    "_Recv": "uses the network",
    "_Send": "uses the network",
    "CollectiveReduce": "uses the network",
    "CollectiveReduceV2": "uses the network",
    "CollectiveGather": "uses the network",
    "CollectiveGatherV2": "uses the network",
    "CollectiveBcastSend": "uses the network",
    "CollectiveBcastRecv": "uses the network",
}


def why_refused(op: str, allowed: Iterable[str] = ()) -> str | None:
    """Why ``op`` may not run (None when it is harmless or explicitly allowed)."""
    if op in allowed:
        return None
    return RISKY_OPS.get(op)


@dataclass(frozen=True)
class Finding:
    where: str  # "graph" or the library function's name
    node: str
    op: str
    reason: str


def scan(model: SavedModel, denylist: Iterable[str] | None = None) -> list[Finding]:
    """Every node whose op is in ``denylist`` (default: every risky op)."""
    ops = dict(RISKY_OPS) if denylist is None else {op: RISKY_OPS.get(op, "denied") for op in denylist}
    found = [Finding("graph", node.name, node.op, ops[node.op]) for node in model.graph_def.node if node.op in ops]
    for name, function in sorted(model.functions.items()):
        found += [Finding(name, node.name, node.op, ops[node.op]) for node in function.node_def if node.op in ops]
    return found
