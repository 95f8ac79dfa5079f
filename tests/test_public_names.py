"""The README and the notebooks teach only public names: what a package's ``__all__``
lists, never ``_proto`` or a module deep inside a subpackage."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _code_of_notebook(path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _code_of_readme() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return "\n".join(blocks)


def _uses(code: str) -> list[str]:
    """Every ``sm_explorer...`` name the code imports or spells out as an attribute chain."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sm_explorer"):
            used += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            used += [a.name for a in node.names if a.name.startswith("sm_explorer")]
        elif isinstance(node, ast.Attribute):
            chain, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == "sm_explorer":
                used.append(".".join(["sm_explorer", *reversed(chain)]))
    return used


def _is_public(name: str) -> bool:
    """``pkg.name`` is public when ``pkg`` is sm_explorer, one of its subpackages or the
    ``cli``, and lists ``name`` in its ``__all__`` (or ``name`` is that subpackage)."""
    parts = name.split(".")
    if any(p.startswith("_") for p in parts):
        return False
    for cut in range(len(parts) - 1, 0, -1):
        module = importlib.import_module(".".join(parts[:cut]))
        if len(parts[:cut]) > 2:
            return False  # a module inside a subpackage: deep
        exported = getattr(module, "__all__", None)
        if exported is None:
            return module.__name__ == "sm_explorer.cli" and parts[cut] == "main"
        if parts[cut] in exported:
            return True
        return cut == 1 and importlib.util.find_spec(f"sm_explorer.{parts[1]}") is not None  # a subpackage
    return True


@pytest.mark.parametrize("source", ["README.md", *[p.name for p in NOTEBOOKS]])
def test_only_public_names(source: str) -> None:
    code = _code_of_readme() if source == "README.md" else _code_of_notebook(ROOT / "notebooks" / source)
    used = _uses(code)
    assert used, "nothing found: the check would pass vacuously"
    private = sorted({name for name in used if not _is_public(name)})
    assert not private, f"{source} uses names that are not public: {private}"
