"""The version is written once, in sm_explorer/__init__.py; the build and the installed metadata read it."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import sm_explorer

ROOT = Path(__file__).resolve().parents[2]


def test_the_build_reads_the_packages_version() -> None:
    from setuptools.config.pyprojecttoml import read_configuration

    project = read_configuration(ROOT / "pyproject.toml", expand=True)["project"]
    assert project["version"] == sm_explorer.__version__
    unexpanded = read_configuration(ROOT / "pyproject.toml", expand=False)["project"]
    assert "version" not in unexpanded and "version" in unexpanded["dynamic"]  # not written twice


def test_installed_metadata_agrees() -> None:
    try:
        installed = importlib.metadata.version("sm-explorer")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("sm-explorer is not installed, only importable")
    assert installed == sm_explorer.__version__, "stale install: run `pip install -e .` again"
