"""Every signature TensorFlow ran (shared corpus and fixtures), run on NumPy.

Feeds ``in/*`` from the expected .npz files and compares with ``out/*``:
rtol 1e-4 / atol 1e-5 for floats, exact for ints, bools and strings. Each
signature runs on a fresh load, as the expected files were made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sm_explorer
from tests.corpus.expected import Case, cases


def _runs() -> list[tuple[Case, list[str], str, Path]]:
    out = []
    for case in cases():
        for mg in case.expected.get("meta_graphs", []):
            tags = mg["tags"]
            for key, run in sorted(mg.get("runs", {}).items()):
                if not run.get("ran"):
                    continue
                parts = [case.folder.name] + ([case.subdir] if case.subdir != "." else [])
                npz = case.expected_dir.joinpath(*parts, "+".join(sorted(tags)), key.replace("/", "__") + ".npz")
                out.append((case, tags, key, npz))
    return out


RUNS = _runs()


def _compare(name: str, got: np.ndarray, want: np.ndarray) -> None:
    got = np.asarray(got)
    if want.dtype.kind == "S":
        flat = [bytes(x) if not isinstance(x, bytes) else x for x in got.reshape(-1)]
        assert [x.rstrip(b"\0") for x in flat] == [x for x in want.reshape(-1)], name
        assert got.shape == want.shape, name
        return
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got.astype(want.dtype), want, rtol=1e-4, atol=1e-5, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("case,tags,key,npz", RUNS, ids=[f"{c.id}:{k}" for c, _, k, _ in RUNS])
def test_signature_outputs_match_tensorflow(case, tags, key, npz):
    loaded = sm_explorer.load(case.path, tags=tags)
    with np.load(npz, allow_pickle=False) as data:
        inputs = {k[3:]: data[k] for k in data.files if k.startswith("in/")}
        expected = {k[4:]: data[k] for k in data.files if k.startswith("out/")}
    outputs = loaded.signatures[key](**inputs)
    assert set(outputs) == set(expected)
    for name, want in expected.items():
        _compare(name, outputs[name], want)
