"""sm-explorer scan lists where ops that touch the outside world appear."""

from __future__ import annotations

from sm_explorer.cli import main
from sm_explorer.core.loader import open_saved_model
from sm_explorer.exec.safety import RISKY_OPS, scan, why_refused


def test_scan_finds_file_reads_inside_functions(corpus):
    model = open_saved_model(corpus / "tensorflow__AssetModule")
    findings = scan(model)
    assert any(f.op == "ReadFile" and f.where in model.functions for f in findings)


def test_scan_with_a_denylist(corpus, capsys):
    code = main(["scan", str(corpus / "tensorflow__half_plus_two"), "--op-denylist", "SaveV2"])
    out = capsys.readouterr().out
    assert code == 0 and "1 node(s)" in out and "save/SaveV2" in out


def test_refusal_reasons():
    assert why_refused("ReadFile") == RISKY_OPS["ReadFile"]
    assert why_refused("ReadFile", allowed=["ReadFile"]) is None
    assert why_refused("MatMul") is None


def test_supported_ops_document_is_fresh():
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run([sys.executable, str(ROOT / "tools" / "list_ops.py"), "--check"], cwd=ROOT)
    assert result.returncode == 0, "run: python tools/list_ops.py"
