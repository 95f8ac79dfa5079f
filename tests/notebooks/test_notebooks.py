"""The teaching notebooks run top to bottom without TensorFlow.

Each notebook in ``notebooks/`` is executed with nbclient in a fresh kernel
whose working directory is a temporary folder. The kernel starts with a
``sitecustomize`` on ``PYTHONPATH`` that puts an import blocker in front of
``sys.meta_path``, so ``import tensorflow`` fails there even though the venv
has TensorFlow: the notebooks' optional comparison cells take their
"no TensorFlow" path, and a check cell appended to each notebook proves the
blocker was active and TensorFlow never got loaded. Any error fails the test,
and so does any change to the bundled example models (notebooks write only to
temporary folders). The notebooks in the repository must be committed without
outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, need

try:
    import ipykernel  # noqa: F401  (the kernel the notebooks run in)
    import nbclient
    import nbformat
except ImportError:  # the dev extra is not installed
    nbclient = nbformat = None

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXAMPLES = ROOT / "sm_explorer" / "examples"
CELL_TIMEOUT = 120  # seconds per cell; every cell takes well under a second on an idle machine
KERNEL = "sm-explorer-notebook-test"

BLOCKER = '''\
"""Installed by tests/notebooks: make TensorFlow unimportable in this kernel."""
import sys

BLOCKED = ("tensorflow", "tf_keras")


class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED or name.startswith("tensorflow_"):
            raise ModuleNotFoundError(
                f"No module named {name!r} (blocked: the notebooks must run without TensorFlow)", name=name
            )
        return None


sys.meta_path.insert(0, NoTensorFlow())
'''

CHECK_CELL = '''\
# Appended by tests/notebooks/test_notebooks.py
import sys
assert not [m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow.")], "TensorFlow was loaded"
try:
    import tensorflow
except ImportError as error:
    assert "blocked" in str(error), error
else:
    raise AssertionError("TensorFlow was importable in the notebook kernel")
'''


def _digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` except Python's bytecode caches."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(autouse=True)
def _tools():
    if nbformat is None:
        need("nbclient, nbformat and ipykernel (the dev extra)")


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01_anatomy.ipynb", "02_tf1_vs_tf2.ipynb", "03_pruning.ipynb", "04_variables.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs ({cell.id})"
            assert cell.source.strip(), f"{path.name}: empty code cell {cell.id}"


def _kernel_env(tmp: Path) -> dict[str, str]:
    site = tmp / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["IPYTHONDIR"] = str(tmp / "ipython")  # no history or profile in the user's home
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def _kernel_manager(tmp: Path):
    """A kernel of this very Python (the venv), whatever kernelspecs the machine has."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    spec = tmp / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "sm_explorer notebook test", "language": "python",
    }))
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_tensorflow(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
    work = tmp_path / "work"
    work.mkdir()
    before = _digest(EXAMPLES)
    km = _kernel_manager(tmp_path)
    client = nbclient.NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, startup_timeout=120, allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=_kernel_env(tmp_path), cwd=str(work))
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}")
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s")
    assert _digest(EXAMPLES) == before, "a notebook wrote into the bundled examples"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
