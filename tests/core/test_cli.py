"""The sm-explorer command: output shapes, exit codes, and nothing written where it must not be."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import sm_explorer
from sm_explorer.cli import main
from tests.helpers import fixture_model, tree_digest

SHOW_KEYS = {"path", "format", "saved_model_schema_version", "meta_graphs", "variables", "assets"}
META_KEYS = {"tags", "tensorflow_version", "kind", "num_nodes", "num_functions", "ops", "signatures"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_json_has_exactly_the_documented_shape(capsys):
    code, out, _ = run(capsys, "show", str(fixture_model("multi_signature_module")), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == SHOW_KEYS
    for mg in data["meta_graphs"]:
        assert set(mg) == META_KEYS
        for sig in mg["signatures"].values():
            assert set(sig) == {"method_name", "inputs", "outputs"}
            for spec in [*sig["inputs"].values(), *sig["outputs"].values()]:
                assert set(spec) == {"dtype", "shape", "name"}
    assert data["meta_graphs"][0]["signatures"]["text"]["inputs"]["text"]["dtype"] == "string"


def test_show_text_covers_signatures_functions_objects(capsys):
    code, out, _ = run(capsys, "show", str(fixture_model("seed_module")))
    assert code == 0
    for text in ("signature_def['serving_default']", "inputs['x'] tensor_info", "Concrete functions",
                 "Object tree", "Checkpoint:", "Method name is: tensorflow/serving/predict"):
        assert text in out


def test_show_one_signature_and_tag_set(capsys):
    path = str(fixture_model("tf1_two_metagraphs"))
    code, out, _ = run(capsys, "show", path, "--tag-set", "serve", "--signature-def", "serving_default")
    assert code == 0 and "serving_default" in out and "train" not in out
    code, _, err = run(capsys, "show", path, "--signature-def", "nope")
    assert code == 1 and "available" in err


def test_user_file_errors_are_one_line_without_traceback(capsys, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "saved_model.pb").write_bytes(b"\xff\xff\xff not a proto")
    code, out, err = run(capsys, "show", str(bad))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "saved_model.pb" in err and "Traceback" not in err
    with pytest.raises(sm_explorer.FormatError):  # --debug lets the exception through
        main(["--debug", "show", str(bad)])


def test_vars_formats(capsys):
    path = str(fixture_model("keras3_export"))
    code, out, _ = run(capsys, "vars", path, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {"key", "path", "dtype", "shape", "elements", "bytes", "shard"} <= set(rows[0])
    code, out, _ = run(capsys, "vars", path, "--format", "csv")
    assert out.splitlines()[0] == "key,path,dtype,shape,elements,bytes,shard"
    code, out, _ = run(capsys, "vars", path)
    assert "tensors" in out.splitlines()[-1]


def test_vars_npz_is_numeric_unpickled_atomic_and_outside_the_model(capsys, tmp_path):
    model = fixture_model("dtypes_variables")
    before = tree_digest(model)
    target = tmp_path / "values.npz"
    code, _, err = run(capsys, "vars", str(model), "--npz", str(target))
    assert code == 0 and "skipped" in err  # strings are not numeric
    with np.load(target, allow_pickle=False) as npz:
        assert len(npz.files) >= 15
    code, _, err = run(capsys, "vars", str(model), "--npz", str(target))
    assert code == 1 and "already exists" in err
    assert run(capsys, "vars", str(model), "--npz", str(target), "--overwrite")[0] == 0
    code, _, err = run(capsys, "vars", str(model), "--npz", str(model / "x.npz"))
    assert code == 1 and "inside the model folder" in err
    assert tree_digest(model) == before
    assert [p.name for p in tmp_path.iterdir()] == ["values.npz"]  # no temp files left


def test_console_script_runs_as_a_process():
    result = subprocess.run(
        [sys.executable, "-m", "sm_explorer.cli", "show", str(fixture_model("seed_module")), "--json"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["meta_graphs"][0]["kind"] == "tf2"


def test_the_cli_does_not_import_heavy_modules():
    code = (
        "import sys, sm_explorer.cli as c; c.main(['show', sys.argv[1], '--json']);"
        "bad = [m for m in ('tensorflow', 'pandas', 'ipywidgets', 'graphviz') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(fixture_model("seed_module"))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
