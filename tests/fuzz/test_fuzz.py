"""Hostile and broken files: every outcome is success or one of our errors.

* A bounded campaign (2,500 mutated models by default, about a minute) runs
  in a worker process with a time limit per case and an address-space
  ceiling; any other exception, hang, crash, memory blow-up or write into
  the model folder fails the test.
* Every failure ever found (``regressions/``) must now be handled.
* The harness's own writers are checked against sm_explorer's readers on
  valid input (Hypothesis), so that a mutation starts one step from a valid
  file and the campaign is not just testing the first parser.

``SM_FUZZ_N`` and ``SM_FUZZ_SEED`` change the bounded campaign's size and seed.
"""

from __future__ import annotations

import gc
import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sm_explorer.core.bundle import Entry
from sm_explorer.core.model import SavedModel
from sm_explorer.core.slices import decode_slice_key
from sm_explorer.core.sstable import read_table
from sm_explorer.core.strings import string_elements
from tests.fuzz.bundle_mutators import encode_strings, slice_key
from tests.fuzz.campaign import Worker, default_seeds, describe_loss, run_campaign
from tests.fuzz.mutators import Seed, make_case
from tests.fuzz.pipeline import run_pipeline
from tests.fuzz.regress import REGRESSIONS, save_failure
from tests.fuzz.sstable import Table, entries_of, from_entries, write_table
from tests.fuzz.sstable import read_table as harness_read_table
from tests.fuzz.wire import LEN, Field, parse, serialize

N = int(os.environ.get("SM_FUZZ_N", "2500"))
SEED = int(os.environ.get("SM_FUZZ_SEED", "0"))
HYPOTHESIS = settings(database=None, derandomize=True, deadline=None, max_examples=60,
                      suppress_health_check=[HealthCheck.too_slow])
REGRESSION_CASES = sorted(p.parent for p in REGRESSIONS.glob("*/FUZZ_CASE.json"))


@pytest.fixture(scope="module")
def worker():
    w = Worker(default_seeds("small"))
    yield w
    w.close()


@pytest.mark.slow
def test_bounded_campaign(tmp_path):
    report = run_campaign(N, SEED, pool="small", hash_rate=0.1)
    print(report.summary())
    assert report.n == N
    assert N >= 2000 or "SM_FUZZ_N" in os.environ  # the issue asks for at least 2,000
    assert report.hashed > N // 20  # the "nothing is written" check really ran
    if report.failures:
        saved = [save_failure(f, tmp_path) for f in report.failures.values() if f["kind"] != "harness"]
        pytest.fail(
            f"{len(report.failures)} distinct failure(s):\n{report.summary()}\n"
            f"cases saved under {tmp_path}: {[p.name for p in saved]}\n"
            f"to keep them as regressions: python -m tests.fuzz.campaign --pool small --seed {SEED} --n {N}"
        )


@pytest.mark.parametrize("case", REGRESSION_CASES, ids=[p.name for p in REGRESSION_CASES])
def test_regression(case: Path, worker):
    meta = json.loads((case / "FUZZ_CASE.json").read_text())
    answer = worker.run_path(case, meta.get("specials"), meta.get("timeout"))
    failure = answer["failure"]
    assert failure is None, (
        f"{case.name}: still fails ({failure['signature']}): {failure['message']}\n{failure['traceback']}"
    )


@pytest.mark.parametrize("name, root", default_seeds("small")[::7])
def test_unmutated_seeds_are_fine_and_untouched(name, root, worker):
    answer = worker.run_path(Path(root))
    assert answer["hashed"] and answer["failure"] is None, answer["failure"]


def test_a_lost_worker_is_located():
    root = Path(__file__).resolve().parents[2]
    dump = (
        "Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent call first):\n"
        f'  File "{root}/sm_explorer/core/bundle.py", line 149 in _map\n'
        f'  File "{root}/tests/fuzz/pipeline.py", line 74 in run_pipeline\n'
    )
    assert describe_loss("crash", "SIGSEGV", dump)["signature"] == "crash:SIGSEGV:sm_explorer/core/bundle.py _map"
    assert describe_loss("crash", "SIGABRT", dump.replace("run_pipeline", "make_case"))["kind"] == "harness"
    assert describe_loss("hang", "Unresponsive", "")["signature"] == "hang:Unresponsive:?"


def test_a_dead_worker_is_replaced(worker):
    root = Path(default_seeds("small")[0][1])
    assert worker.run_path(root)["failure"] is None
    worker.proc.kill()
    worker.proc.wait()
    assert worker.run_path(root)["failure"] is None


def test_models_are_freed_after_the_pipeline():
    """A campaign (or a notebook) opens model after model: none may outlive its use.
    Leaks pile up in a long campaign until a later, innocent case hits the memory limit."""
    gc.collect()
    before = {id(o) for o in gc.get_objects() if isinstance(o, SavedModel)}  # other tests' models
    run_pipeline(Path(default_seeds("small")[0][1]))
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, SavedModel) and id(o) not in before]
    holders = {type(r).__name__ for o in alive[:1] for r in gc.get_referrers(o) if r is not alive}
    assert not alive, f"{len(alive)} SavedModel(s) still referenced (by {sorted(holders)})"


def test_cases_are_deterministic():
    seeds = [Seed(n, Path(r)) for n, r in default_seeds("small")]
    for index in (0, 17, 999):
        a, b = make_case(seeds, 3, index), make_case(seeds, 3, index)
        assert a.files == b.files and a.mutations == b.mutations and a.mutations
    assert make_case(seeds, 3, 1).files != make_case(seeds, 4, 1).files


# ---- the harness's writers agree with sm_explorer's readers on valid input ----

def _round_trip(data: bytes, depth: int = 0) -> bytes:
    fields = parse(data)
    assert fields is not None
    out = []
    for f in fields:
        if f.wire == LEN and depth < 40 and f.children():
            f = f.with_value(_round_trip(f.value, depth + 1))  # type: ignore[arg-type]
        out.append(f)
    return serialize(out)


def test_wire_round_trip_of_real_protos():
    for name, root in default_seeds("small")[::3]:
        for path in Path(root).rglob("*.pb"):
            data = path.read_bytes()
            if parse(data) is not None:
                assert _round_trip(data) == data, f"{name}/{path.name}"


_FIELDS = st.recursive(
    st.builds(lambda n, v: Field(n, 0, v), st.integers(1, 2**29 - 1), st.integers(0, 2**64 - 1))
    | st.builds(lambda n, v: Field(n, LEN, v), st.integers(1, 2**29 - 1), st.binary(max_size=20)),
    lambda inner: st.builds(
        lambda n, fs: Field(n, LEN, serialize(fs)), st.integers(1, 50), st.lists(inner, max_size=4)
    ),
    max_leaves=20,
)


@HYPOTHESIS
@given(st.lists(_FIELDS, max_size=8))
def test_wire_serialize_parse(fields):
    data = serialize(fields)
    parsed = parse(data)
    assert parsed is not None and serialize(parsed) == data
    assert [(f.number, f.wire, f.value) for f in parsed] == [(f.number, f.wire, f.value) for f in fields]


@HYPOTHESIS
@given(
    st.dictionaries(st.binary(max_size=12), st.binary(max_size=40), max_size=40),
    st.sampled_from((1 << 20, 256, 48)), st.sampled_from((1, 2, 16)), st.booleans(), st.booleans(),
)
def test_table_writer_is_read_back(tmp_path_factory, entries, block_size, restarts, compress, compressed_index):
    items = sorted(entries.items())
    table = from_entries(items, block_size, restarts, compress)
    table = Table(table.data, table.keys, 1 if compressed_index else 0)
    path = tmp_path_factory.mktemp("t") / "variables.index"
    path.write_bytes(write_table(table))
    assert read_table(path) == items
    assert entries_of(harness_read_table(path.read_bytes())) == items


def test_seed_indexes_survive_a_rewrite(tmp_path):
    for name, root in default_seeds("small"):
        for index in Path(root).rglob("variables.index"):
            table = harness_read_table(index.read_bytes())
            out = tmp_path / "variables.index"
            out.write_bytes(write_table(table))
            assert read_table(out) == read_table(index), name


@HYPOTHESIS
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=6))
def test_string_encoding_is_read_back(elements):
    data, crc = encode_strings(elements)
    entry = Entry("s", 7, (len(elements),), 0, 0, len(data), crc)
    assert string_elements(memoryview(data), entry, Path("x")) == elements


@HYPOTHESIS
@given(
    st.binary(min_size=1, max_size=20),
    st.lists(st.tuples(st.integers(-(2**62), 2**62), st.integers(-(2**62), 2**62)), max_size=4),
)
def test_slice_keys_are_read_back(name, extents):
    decoded = decode_slice_key(slice_key(name, extents))
    assert decoded is not None
    assert decoded[0] == name.decode("utf-8", "backslashreplace")
    assert decoded[1] == tuple((s, None if n == -1 else n) for s, n in extents)


def test_footer_layout():
    data = write_table(from_entries([(b"", b"x")]))
    assert struct.unpack("<Q", data[-8:])[0] == 0xDB4775248B80FB57
