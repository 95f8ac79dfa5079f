"""The checkpoint writer: round trips through our reader (every dtype, any
shape, any sharding), TensorFlow reads what we write, and a write is atomic."""

from __future__ import annotations

import tempfile
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sm_explorer.core.bundle import Checkpoint
from sm_explorer.core.output import OutputError
from sm_explorer.core.sstable import read_table
from sm_explorer.export import bundle_writer
from sm_explorer.export.bundle_writer import TF_BLOCK_SIZE, benchmark_write, write_checkpoint
from sm_explorer.export.sstable_writer import build_table

NUMERIC = [
    np.float16, np.float32, np.float64, np.complex64, np.complex128,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_,
]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
KEYS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda k: not k.startswith("\x00")
)


@st.composite
def tensors(draw: st.DrawFn) -> np.ndarray:
    kind = draw(st.sampled_from([*NUMERIC, "bfloat16", "string"]))
    shape = draw(SHAPES)
    if kind == "bfloat16":
        return draw(hnp.arrays(np.float32, shape)).astype(ml_dtypes.bfloat16)
    if kind == "string":
        count = int(np.prod(shape))
        items = draw(st.lists(st.binary(max_size=20) | st.text(max_size=8).map(str.encode), min_size=count,
                              max_size=count))
        out = np.empty(count, dtype=object)
        out[:] = items
        return out.reshape(shape)
    return draw(hnp.arrays(kind, shape))


def same(ours: np.ndarray, theirs: np.ndarray) -> bool:
    """Equal dtype, shape and bytes (NaN payloads and -0.0 included)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.dtype != theirs.dtype or ours.shape != theirs.shape:
        return False
    if ours.dtype == object:
        return [bytes(x) for x in ours.reshape(-1)] == [bytes(x) for x in theirs.reshape(-1)]
    return ours.tobytes() == theirs.tobytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(KEYS, tensors(), max_size=12), num_shards=st.integers(1, 4))
def test_round_trip_through_our_reader(values, num_shards):
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "ckpt"
        written = write_checkpoint(prefix, values, num_shards=num_shards)
        assert all(p.is_file() for p in written) and len(written) == num_shards + 1
        checkpoint = Checkpoint(prefix)
        assert checkpoint.num_shards == num_shards and checkpoint.version == (1, 0)
        assert sorted(checkpoint.entries) == sorted(values)
        for key, value in values.items():
            assert same(checkpoint.read(key), value), key


@settings(max_examples=100, deadline=None)
@given(
    keys=st.sets(st.binary(max_size=30), max_size=200),
    block_size=st.integers(1, 600),
    restart_interval=st.integers(1, 20),
)
def test_table_round_trip(keys, block_size, restart_interval):
    items = [(k, k[::-1] * 3) for k in sorted(keys)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.index"
        path.write_bytes(build_table(items, block_size=block_size, restart_interval=restart_interval))
        assert read_table(path) == items


def test_table_keys_must_increase():
    with pytest.raises(ValueError, match="strictly increasing"):
        build_table([(b"b", b""), (b"a", b"")])
    with pytest.raises(ValueError, match="strictly increasing"):
        build_table([(b"a", b""), (b"a", b"")])


def every_dtype() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    out = {f"num/{np.dtype(t).name}": (rng.normal(size=(3, 2)) * 50).astype(t) for t in NUMERIC}
    out["num/bfloat16"] = rng.normal(size=(4,)).astype(ml_dtypes.bfloat16)
    out["num/complex64"] += 1j * out["num/float32"].astype(np.complex64)
    out["special/nan_inf"] = np.array([np.nan, -np.inf, np.inf, -0.0], np.float32)
    out["special/scalar"] = np.array(7, np.int64)
    out["special/zero_size"] = np.zeros((0, 5), np.float64)
    out["special/bool_scalar"] = np.array(True)
    strings = np.empty((2, 2), dtype=object)
    strings[:] = [[b"", "héllo ✓".encode()], [bytes(range(256)), b"\x00\xff"]]
    out["text/strings"] = strings
    out["text/empty_list"] = np.empty((0,), dtype=object)
    out["text/scalar"] = np.array(b"", dtype=object)
    out["ünïcode/ключ"] = np.arange(3, dtype=np.uint8)
    return out


@pytest.mark.parametrize("num_shards", [1, 3])
def test_tensorflow_reads_every_dtype(tf, tmp_path, num_shards):
    values = every_dtype()
    prefix = tmp_path / "ckpt"
    write_checkpoint(prefix, values, num_shards=num_shards)
    reader = tf.train.load_checkpoint(str(prefix))
    assert sorted(reader.get_variable_to_shape_map()) == sorted(values)
    for key, value in values.items():
        got = np.asarray(reader.get_tensor(key))
        if value.dtype == object:
            assert got.shape == value.shape and list(got.reshape(-1)) == list(value.reshape(-1)), key
        else:
            assert same(got.astype(value.dtype), value) and got.dtype == value.dtype, key


def test_byte_identical_to_tensorflow(tf, tmp_path):
    """Given sorted names, SaveV2 writes exactly our bytes (data, entries, table)."""
    values = every_dtype()
    for i in range(3000):  # enough entries for several index blocks
        values[f"many/layer_{i:05d}/kernel"] = np.full((2,), i, np.int32)
    names = sorted(values)
    tf.raw_ops.SaveV2(
        prefix=str(tmp_path / "theirs"), tensor_names=names, shape_and_slices=[""] * len(names),
        tensors=[tf.constant(values[k]) for k in names],
    )
    write_checkpoint(tmp_path / "ours", values, block_size=TF_BLOCK_SIZE)
    for suffix in (".index", ".data-00000-of-00001"):
        assert (tmp_path / f"ours{suffix}").read_bytes() == (tmp_path / f"theirs{suffix}").read_bytes()


def test_unusual_layouts_are_normalized(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    values = {
        "big_endian": base.astype(">f8"),
        "fortran": np.asfortranarray(base),
        "strided": base[::2, ::3],
        "str_unicode": np.array(["a", "ü"]),
        "str_bytes": np.array([b"x", b"yz"]),
        "python_scalar": 3.5,
    }
    write_checkpoint(tmp_path / "c", values)
    checkpoint = Checkpoint(tmp_path / "c")
    for key in ("big_endian", "fortran", "strided"):
        assert np.array_equal(checkpoint.read(key), values[key]) and checkpoint.read(key).dtype == np.float64
    assert list(checkpoint.read("str_unicode")) == [b"a", "ü".encode()]
    assert list(checkpoint.read("str_bytes")) == [b"x", b"yz"]
    assert checkpoint.read("python_scalar") == 3.5


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"": np.zeros(1)}, ValueError),
        ({"\x00slice": np.zeros(1)}, ValueError),
        ({"objects": np.array([1, "a"], dtype=object)}, TypeError),
        ({"dates": np.array(["2020-01-01"], dtype="datetime64[D]")}, ValueError),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, values, error):
    with pytest.raises(error):
        write_checkpoint(tmp_path / "c", values)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_and_model_root(tmp_path):
    write_checkpoint(tmp_path / "c", {"a": np.zeros(2)})
    with pytest.raises(OutputError, match="already exists"):
        write_checkpoint(tmp_path / "c", {"a": np.ones(2)})
    write_checkpoint(tmp_path / "c", {"a": np.ones(2)}, overwrite=True)
    assert np.array_equal(Checkpoint(tmp_path / "c").read("a"), np.ones(2))
    with pytest.raises(OutputError, match="model folder"):
        write_checkpoint(tmp_path / "model" / "variables" / "v", {"a": np.ones(2)}, model_root=tmp_path / "model")
    with pytest.raises(ValueError, match="num_shards"):
        write_checkpoint(tmp_path / "d", {"a": np.ones(2)}, num_shards=0)


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bundle_writer, "build_table", fail)  # after the data shards are written
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_checkpoint(tmp_path / "c", {"a": np.zeros(1000), "b": np.ones(3)}, num_shards=2)
    assert list(tmp_path.iterdir()) == []


def test_benchmark_hook_runs(tmp_path):
    seconds = benchmark_write(total_mb=8, num_tensors=4, directory=tmp_path)
    assert isinstance(seconds, float) and seconds > 0  # how fast is for benchmarks/, not unit tests
    assert list(tmp_path.iterdir()) == []
