"""Shared test fixtures.

Tests that need an optional tool (TensorFlow, Graphviz's ``dot``, a browser,
the shared corpus) ask for it through a fixture here. Outside CI a missing tool
skips the test; with ``CI=true`` it fails instead, so CI never skips a test it
could have run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = Path(os.environ.get("SM_EXPLORER_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "savedmodels"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(what: str) -> None:
    """Skip (or, in CI, fail) because ``what`` is not available."""
    if IN_CI:
        pytest.fail(f"CI=true but {what} is not available; `make test` should install it")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def tf():
    """TensorFlow, imported once (slow), for tests that compare against it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow
    except ImportError:
        need("TensorFlow")
    return tensorflow


@pytest.fixture(scope="session")
def dot_binary() -> str:
    path = shutil.which("dot")
    if path is None:
        need("Graphviz's dot")
    return path


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        need(f"the shared corpus at {CORPUS}")
    return CORPUS
