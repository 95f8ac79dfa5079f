"""The writers live in ``export``: ``core`` only reads, and ``export`` never needs ``exec``."""

from __future__ import annotations

import ast
from pathlib import Path

import sm_explorer

PACKAGE = Path(sm_explorer.__file__).resolve().parent


def imported(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_core_does_not_import_export_and_export_not_exec() -> None:
    rules = {"core": "sm_explorer.export", "export": "sm_explorer.exec"}
    broken = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for folder, banned in rules.items()
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for name in imported(path)
        if name == banned or name.startswith(banned + ".")
    ]
    assert broken == []


def test_no_writer_is_left_in_core() -> None:
    assert not [p.name for p in (PACKAGE / "core").glob("*.py") if "writer" in p.name or p.name == "npz.py"]
