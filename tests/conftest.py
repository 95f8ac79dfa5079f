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


CHROMIUM = Path(os.environ.get("SM_EXPLORER_CHROMIUM", "/usr/bin/chromium"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--gallery", metavar="DIR", default=None,
                     help="browser tests also write the README's screenshots (small PNGs) into DIR")


@pytest.fixture(scope="session")
def browser() -> str:
    """Debian's Chromium, for tests/browser (Playwright drives it; it never downloads one).

    Also needs Playwright's Python package and Voila (the ``app`` extra), which
    the browser tests cannot do without.
    """
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        need(f"Chromium at {CHROMIUM} (apt package chromium)")
    for module, what in (("playwright.sync_api", "Playwright for Python"), ("voila", "Voila (the app extra)")):
        try:
            __import__(module)
        except ImportError:
            need(what)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def voila_app() -> None:
    """Voila (the ``app`` extra), for tests of ``sm-explorer serve`` that need no browser."""
    try:
        import voila  # noqa: F401
    except ImportError:
        need("Voila (the app extra)")
