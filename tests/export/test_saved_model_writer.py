"""The SavedModel writer: TensorFlow loads and runs what we write (TF2 and TF1
loaders, saved_model_cli), our loader reads it, and writes are atomic and
never touch the source model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import sm_explorer
from sm_explorer._proto import graph_pb2, objects_pb2, saved_model_pb2, types_pb2
from sm_explorer.core import dtypes
from sm_explorer.core.output import OutputError
from sm_explorer.export import Signature, SignatureTensor, saved_model, write_saved_model
from tests.helpers import tree_digest

FLOAT = 1
W = np.arange(6, dtype=np.float32).reshape(3, 2)
B = np.array([10.0, 20.0], np.float32)
X = np.array([[1, 2, 3], [-1, 0, 0.5]], np.float32)
SIGNATURE = Signature(
    inputs={"x": ("x:0", "float32", (None, 3))},
    outputs={"y": SignatureTensor("output:0", "float32", (None, 2))},
)


def attr(**kwargs) -> graph_pb2.AttrValue:
    return graph_pb2.AttrValue(**kwargs)


def shape(*dims: int) -> graph_pb2.AttrValue:
    return attr(shape=types_pb2.TensorShapeProto(dim=[types_pb2.TensorShapeProto.Dim(size=d) for d in dims]))


def add(graph: graph_pb2.GraphDef, name: str, op: str, inputs=(), **attrs) -> None:
    node = graph.node.add(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        node.attr[key].CopyFrom(value)


def dense_graph(w_read: str = "w/Read/ReadVariableOp", b_read: str = "b/Read/ReadVariableOp") -> graph_pb2.GraphDef:
    """x -> MatMul(x, w) -> AddV2(b) -> output; the variable nodes are left to the writer."""
    graph = graph_pb2.GraphDef()
    add(graph, "x", "Placeholder", dtype=attr(type=FLOAT), shape=shape(-1, 3))
    add(graph, "MatMul", "MatMul", ["x", w_read], T=attr(type=FLOAT))
    add(graph, "Add", "AddV2", ["MatMul", b_read], T=attr(type=FLOAT))
    add(graph, "output", "Identity", ["Add"], T=attr(type=FLOAT))
    return graph


def cli_show(path: Path) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).with_name("saved_model_cli")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([str(cli), "show", "--all", "--dir", str(path)], capture_output=True, text=True, env=env)


def test_tensorflow_runs_what_we_write(tf, tmp_path):
    path = write_saved_model(tmp_path / "model", dense_graph(), SIGNATURE, {"w": W, "b": B})
    loaded = tf.saved_model.load(str(path))
    result = loaded.signatures["serving_default"](x=tf.constant(X))
    np.testing.assert_allclose(result["y"].numpy(), X @ W + B, rtol=1e-6)
    assert {v.name: v.numpy().tolist() for v in loaded.variables} == {"w:0": W.tolist(), "b:0": B.tolist()}
    shown = cli_show(path)
    assert shown.returncode == 0, shown.stderr
    assert "signature_def['serving_default']" in shown.stdout and "RestoreV2" in shown.stdout


def test_tf1_session_loader_restores_and_saver_saves(tf, tmp_path):
    path = write_saved_model(tmp_path / "model", dense_graph(), SIGNATURE, {"w": W, "b": B})
    with tf.compat.v1.Session(graph=tf.Graph()) as session:
        meta = tf.compat.v1.saved_model.load(session, ["serve"], str(path))
        np.testing.assert_allclose(session.run("output:0", {"x:0": X}), X @ W + B, rtol=1e-6)
        saver = tf.compat.v1.train.Saver(saver_def=meta.saver_def)  # our SaveV2 subgraph
        prefix = saver.save(session, str(tmp_path / "resaved" / "ckpt"))
    reader = tf.train.load_checkpoint(prefix)
    assert np.array_equal(reader.get_tensor("w"), W) and np.array_equal(reader.get_tensor("b"), B)


def test_variables_of_every_dtype_restore_in_tensorflow(tf, tmp_path):
    strings = np.empty((2,), dtype=object)
    strings[:] = [b"", "é✓".encode()]
    values = {
        "f16": np.array([1.5, -2], np.float16), "bf16": np.array([[1.5]], ml_dtypes.bfloat16),
        "f64": np.array(2.25), "c64": np.array([1 + 2j], np.complex64), "c128": np.array([1 - 2j]),
        "i8": np.array([-3], np.int8), "i16": np.array([-300], np.int16), "i64": np.array([-(2**40)]),
        "u8": np.array(5, np.uint8), "u16": np.array([7], np.uint16), "u32": np.array([7], np.uint32),
        "u64": np.array([2**63], np.uint64), "flag": np.array([True, False]), "text": strings,
        "empty": np.zeros((0, 3), np.float32),
    }
    graph = graph_pb2.GraphDef()
    outputs = {k: (f"{k}/Read/ReadVariableOp:0", dtypes.from_numpy(v.dtype), v.shape) for k, v in values.items()}
    path = write_saved_model(tmp_path / "model", graph, Signature({}, outputs), values)
    result = tf.saved_model.load(str(path)).signatures["serving_default"]()
    for key, value in values.items():
        got = result[key].numpy()
        assert got.shape == value.shape, key
        if value.dtype == object:
            assert list(got) == list(value)
        else:
            assert got.dtype == value.dtype and np.array_equal(got, value), key
    with tf.compat.v1.Session(graph=tf.Graph()) as session:  # our zeros initializers run too
        meta = tf.compat.v1.saved_model.load(session, ["serve"], str(path))
        defs = [objects_pb2.VariableDef.FromString(r) for r in meta.collection_def["variables"].bytes_list.value]
        session.run([d.initializer_name for d in defs])
        for item in defs:
            got = session.run(item.snapshot_name)
            value = values[item.variable_name[:-2]]
            assert got.shape == value.shape and not np.asarray(got, dtype=bool).any(), item.variable_name


def test_existing_variable_nodes_are_reused(tf, tmp_path):
    graph = dense_graph(w_read="w_value", b_read="b/read")
    add(graph, "w", "VarHandleOp", dtype=attr(type=FLOAT), shape=shape(3, 2), shared_name=attr(s=b"w"))
    add(graph, "w_value", "ReadVariableOp", ["w"], dtype=attr(type=FLOAT))
    add(graph, "b", "VariableV2", dtype=attr(type=FLOAT), shape=shape(2))  # a TF1 ref variable
    add(graph, "b/read", "Identity", ["b"], T=attr(type=FLOAT))
    path = write_saved_model(tmp_path / "model", graph, SIGNATURE, {"w": W, "b": B})
    meta = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes()).meta_graphs[0]
    defs = {}
    for raw in meta.collection_def["variables"].bytes_list.value:
        item = objects_pb2.VariableDef.FromString(raw)
        defs[item.variable_name] = item
    assert defs["w:0"].is_resource and defs["w:0"].snapshot_name == "w_value:0"
    assert not defs["b:0"].is_resource and defs["b:0"].snapshot_name == "b/read:0"
    ops = {n.name: n.op for n in meta.graph_def.node}
    assert ops["save/Assign_0"] == "Assign" and ops["save/AssignVariableOp_1"] == "AssignVariableOp"
    with tf.compat.v1.Session(graph=tf.Graph()) as session:
        tf.compat.v1.saved_model.load(session, ["serve"], str(path))
        np.testing.assert_allclose(session.run("output:0", {"x:0": X}), X @ W + B, rtol=1e-6)
    result = tf.saved_model.load(str(path)).signatures["serving_default"](x=tf.constant(X))
    np.testing.assert_allclose(result["y"].numpy(), X @ W + B, rtol=1e-6)


def test_our_loader_reads_it_back(tmp_path):
    path = write_saved_model(tmp_path / "model", dense_graph(), SIGNATURE, {"w": W, "b": B})
    loaded = sm_explorer.load(path)
    assert list(loaded.signatures) == ["serving_default"]
    model = loaded.saved_model
    values = {v.name: model.read_variable(v) for v in model.variables}
    assert np.array_equal(values["w:0"], W) and np.array_equal(values["b:0"], B)
    proto = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    meta = proto.meta_graphs[0]
    assert list(meta.meta_info_def.tags) == ["serve"]
    assert meta.meta_info_def.tensorflow_git_version == saved_model.WRITER_NOTE
    assert meta.meta_info_def.tensorflow_version == ""  # TF would parse free text as a version and fail
    assert meta.saver_def.restore_op_name == "save/restore_all" and meta.saver_def.version == 2
    assert sorted(p.name for p in (path / "variables").iterdir()) == [
        "variables.data-00000-of-00001", "variables.index"
    ]


def test_no_variables(tf, tmp_path):
    graph = graph_pb2.GraphDef()
    add(graph, "x", "Placeholder", dtype=attr(type=FLOAT))
    add(graph, "y", "Neg", ["x"], T=attr(type=FLOAT))
    path = write_saved_model(tmp_path / "m", graph, Signature({"x": ("x", "float32", None)}, {"y": ("y", 1, None)}))
    meta = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes()).meta_graphs[0]
    assert not meta.HasField("saver_def") and "variables" not in meta.collection_def
    assert (path / "variables").is_dir()
    result = tf.saved_model.load(str(path)).signatures["serving_default"](x=tf.constant([1.0, -2.0]))
    assert result["y"].numpy().tolist() == [-1.0, 2.0]
    assert cli_show(path).returncode == 0


def test_signature_def_proto_and_names_are_checked(tmp_path):
    proto = saved_model_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    proto.inputs["x"].name = "x:0"
    proto.outputs["y"].name = "output:0"
    write_saved_model(tmp_path / "a", dense_graph(), proto, {"w": W, "b": B})
    with pytest.raises(ValueError, match="no node 'missing'"):
        write_saved_model(tmp_path / "b", dense_graph(), Signature({"x": ("missing:0", "float32", None)}, {}))
    graph = dense_graph()
    with pytest.raises(ValueError, match="MatMul node, not a variable"):
        write_saved_model(tmp_path / "c", graph, SIGNATURE, {"MatMul": W})
    add(graph, "w", "VarHandleOp", dtype=attr(type=FLOAT), shape=shape(3, 2))
    with pytest.raises(ValueError, match="shape"):
        write_saved_model(tmp_path / "d", graph, SIGNATURE, {"w": W.T})
    with pytest.raises(ValueError, match="float64"):
        write_saved_model(tmp_path / "e", graph, SIGNATURE, {"w": W.astype(np.float64)})
    with pytest.raises(ValueError, match="valid TensorFlow node name"):
        write_saved_model(tmp_path / "f", graph, SIGNATURE, {"bad name!": W})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_stripped_op_list_keeps_used_ops(tmp_path):
    op_list = graph_pb2.OpList(op=[graph_pb2.OpDef(name=n) for n in ("MatMul", "Conv2D", "AddV2", "Placeholder")])
    path = write_saved_model(tmp_path / "m", dense_graph(), SIGNATURE, {"w": W, "b": B}, stripped_op_list=op_list)
    meta = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes()).meta_graphs[0]
    assert [op.name for op in meta.meta_info_def.stripped_op_list.op] == ["AddV2", "MatMul", "Placeholder"]


def test_overwrite_is_refused_unless_asked(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(OutputError, match="already exists"):
        write_saved_model(target, dense_graph(), SIGNATURE, {"w": W, "b": B})
    assert (target / "keep.txt").read_text() == "old"
    write_saved_model(target, dense_graph(), SIGNATURE, {"w": W, "b": B}, overwrite=True)
    assert not (target / "keep.txt").exists() and (target / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_never_writes_into_or_over_the_source_model(tmp_path):
    source = tmp_path / "models" / "source"
    write_saved_model(source, dense_graph(), SIGNATURE, {"w": W, "b": B})
    before = tree_digest(tmp_path)
    with pytest.raises(OutputError, match="inside the model folder"):
        write_saved_model(source / "export", dense_graph(), SIGNATURE, {"w": W, "b": B}, model_root=source)
    for target in (source, tmp_path / "models"):  # replacing the source or a folder holding it
        with pytest.raises(OutputError):
            write_saved_model(target, dense_graph(), SIGNATURE, {"w": W, "b": B}, overwrite=True, model_root=source)
    assert tree_digest(tmp_path) == before


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    real = saved_model.write_checkpoint

    def half_then_fail(prefix, tensors, *args, **kwargs):
        real(prefix, tensors, *args, **kwargs)  # the variables are on disk (in the temp folder)...
        raise KeyboardInterrupt  # ...when the write is interrupted

    monkeypatch.setattr(saved_model, "write_checkpoint", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        write_saved_model(tmp_path / "model", dense_graph(), SIGNATURE, {"w": W, "b": B})
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        write_saved_model(existing, dense_graph(), SIGNATURE, {"w": W, "b": B}, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["existing"]
    assert (existing / "keep.txt").read_text() == "old"
