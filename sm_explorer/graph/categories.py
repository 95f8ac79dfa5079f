"""A coarse category for every op, so views can colour and count nodes by kind.

The table names common ops; unknown ops fall back to name patterns, then
"other". A node whose op is a library function is a function call.
"""

from __future__ import annotations

__all__ = ["CATEGORIES", "category"]

CATEGORIES = (
    "math", "nn", "array", "control_flow", "variable", "io", "function_call",
    "string", "constant", "input", "other",
)

_GROUPS = {
    "math": "Abs Acos Acosh Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Atan Atan2 Atanh "
            "BatchMatMul BatchMatMulV2 BatchMatMulV3 Betainc BitwiseAnd BitwiseOr BitwiseXor Cast Ceil Complex "
            "ComplexAbs Cos Cosh Cross Cumprod Cumsum Digamma Div DivNoNan Einsum Equal Erf Erfc Erfinv "
            "EuclideanNorm Exp Expm1 Floor FloorDiv FloorMod Greater GreaterEqual Imag Inv Invert IsFinite "
            "IsInf IsNan LeftShift Less LessEqual Lgamma LinSpace Log Log1p LogicalAnd LogicalNot LogicalOr "
            "MatMul Max Maximum Mean Min Minimum Mod Mul MulNoNan Neg NotEqual Pow Prod Range Real RealDiv "
            "Reciprocal RightShift Rint Round Rsqrt Select SelectV2 Sigmoid Sign Sin Sinh SparseMatMul Sqrt "
            "Square SquaredDifference Sub Sum Tan Tanh TruncateDiv TruncateMod Xdivy Xlog1py Xlogy "
            "RandomUniform RandomUniformInt RandomStandardNormal TruncatedNormal Multinomial "
            "StatelessRandomUniform StatelessRandomNormal StatelessTruncatedNormal StatelessRandomUniformV2 "
            "StatelessRandomNormalV2 StatelessTruncatedNormalV2 StatelessRandomGetKeyCounter ClipByValue "
            "BroadcastGradientArgs Bitcast",
    "nn": "AvgPool AvgPool3D BiasAdd BiasAddV1 Conv1D Conv2D Conv2DBackpropFilter Conv2DBackpropInput Conv3D "
          "Conv3DBackpropInputV2 DepthwiseConv2dNative Dilation2D Elu FusedBatchNorm FusedBatchNormV2 "
          "FusedBatchNormV3 InTopKV2 L2Loss LeakyRelu LogSoftmax LRN MaxPool MaxPool3D MaxPoolV2 Relu Relu6 "
          "Selu Softmax SoftmaxCrossEntropyWithLogits Softplus Softsign SparseSoftmaxCrossEntropyWithLogits "
          "TopKV2 ResizeBilinear ResizeBicubic ResizeArea ResizeNearestNeighbor ReluGrad Relu6Grad",
    "array": "BatchToSpaceND BroadcastArgs BroadcastTo CheckNumerics CheckNumericsV2 Concat ConcatV2 "
             "DepthToSpace DynamicPartition DynamicStitch EnsureShape ExpandDims Fill Gather GatherNd GatherV2 "
             "Identity IdentityN InvertPermutation MatrixBandPart MatrixDiag MatrixDiagV3 MatrixTranspose "
             "MirrorPad OneHot OnesLike Pack Pad PadV2 ParallelDynamicStitch PreventGradient Rank Reshape "
             "ReverseV2 Roll ScatterNd Shape ShapeN Size Slice Snapshot SpaceToBatchND SpaceToDepth Split "
             "SplitV Squeeze StopGradient StridedSlice TensorScatterAdd TensorScatterUpdate Tile Transpose "
             "ConjugateTranspose Unique Unpack Where ZerosLike TensorListReserve TensorListFromTensor "
             "TensorListGetItem TensorListSetItem TensorListStack TensorListPushBack TensorListPopBack "
             "TensorListLength TensorListElementShape RaggedTensorToTensor RaggedRange RaggedGather",
    "control_flow": "Switch RefSwitch Merge RefMerge Enter RefEnter Exit RefExit NextIteration RefNextIteration "
                    "LoopCond ControlTrigger NoOp If StatelessIf While StatelessWhile Case StatelessCase Assert "
                    "Print PrintV2",
    "variable": "VarHandleOp ReadVariableOp AssignVariableOp AssignAddVariableOp AssignSubVariableOp "
                "VarIsInitializedOp VariableShape DestroyResourceOp ResourceGather DisableCopyOnRead VariableV2 "
                "Variable TemporaryVariable Assign AssignAdd AssignSub IsVariableInitialized RefIdentity "
                "HashTableV2 MutableHashTableV2 MutableDenseHashTableV2 LookupTableFindV2 LookupTableSizeV2 "
                "LookupTableExportV2 LookupTableImportV2 LookupTableInsertV2 InitializeTableV2 "
                "InitializeTableFromTextFileV2 ApplyGradientDescent ApplyMomentum ApplyAdam ScatterUpdate "
                "ScatterAdd",
    "io": "SaveV2 Save SaveSlices RestoreV2 Restore RestoreSlice MergeV2Checkpoints ShardedFilename "
          "ShardedFilespec ReadFile WriteFile ParseExample ParseExampleV2 ParseSingleExample DecodeJpeg "
          "DecodePng DecodeRaw DecodeCSV",
    "function_call": "PartitionedCall StatefulPartitionedCall BatchFunction XlaCallModule TPUPartitionedCall",
    "string": "AsString DecodeBase64 EncodeBase64 ReduceJoin RegexFullMatch RegexReplace StaticRegexFullMatch "
              "StaticRegexReplace StringFormat StringJoin StringLength StringLower StringSplit StringSplitV2 "
              "StringStrip StringToHashBucket StringToHashBucketFast StringToHashBucketStrong StringToNumber "
              "StringUpper Substr UnicodeDecode UnicodeDecodeWithOffsets UnicodeEncode UnicodeScript",
    "constant": "Const HostConst ImmutableConst",
    "input": "Placeholder PlaceholderWithDefault PlaceholderV2 _Arg",
}
_TABLE = {op: name for name, ops in _GROUPS.items() for op in ops.split()}

# Name patterns for ops the table does not list, checked in order.
_PATTERNS = (
    ("Resource", "variable"), ("Variable", "variable"), ("LookupTable", "variable"),
    ("Unicode", "string"), ("String", "string"), ("Regex", "string"),
    ("Save", "io"), ("Restore", "io"), ("Decode", "io"), ("Encode", "io"), ("Parse", "io"), ("Dataset", "io"),
    ("TensorList", "array"), ("Ragged", "array"), ("Sparse", "array"),
    ("Conv", "nn"), ("Pool", "nn"), ("BatchNorm", "nn"),
    ("Random", "math"), ("Segment", "math"), ("Reduce", "math"),
)


def category(op: str, *, is_function: bool = False) -> str:
    """The category of ``op`` (``is_function``: the op names a library function)."""
    if is_function:
        return "function_call"
    found = _TABLE.get(op)
    if found is not None:
        return found
    for pattern, name in _PATTERNS:
        if pattern in op:
            return name
    return "other"
