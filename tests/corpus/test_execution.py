"""Every signature TensorFlow ran (shared corpus and fixtures), run on NumPy.

Feeds ``in/*`` from the expected .npz files and compares with ``out/*``:
rtol 1e-4 / atol 1e-5 for floats, exact for ints, bools and strings. Each
signature runs on a fresh load, as the expected files were made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sm_explorer
from tests.corpus.expected import Case, cases, compare_output, read_run


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


@pytest.mark.parametrize("case,tags,key,npz", RUNS, ids=[f"{c.id}:{k}" for c, _, k, _ in RUNS])
def test_signature_outputs_match_tensorflow(case, tags, key, npz):
    loaded = sm_explorer.load(case.path, tags=tags)
    inputs, expected = read_run(npz)
    outputs = loaded.signatures[key](**inputs)
    assert set(outputs) == set(expected)
    for name, want in expected.items():
        compare_output(name, outputs[name], want)
