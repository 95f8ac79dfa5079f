"""Fixtures for the browser tests: one Chromium per session, one app per model.

Screenshots go to ``$SM_EXPLORER_ARTIFACTS`` (default ``.cache/artifacts/browser``);
``pytest tests/browser --gallery docs/gallery`` also writes the README's PNGs.
A failing test also leaves ``FAILED-<test>.png`` and the app's log there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

ARTIFACTS = Path(os.environ.get("SM_EXPLORER_ARTIFACTS", ROOT / ".cache" / "artifacts" / "browser"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def gallery(request: pytest.FixtureRequest) -> Path | None:
    value = request.config.getoption("--gallery")
    return None if value is None else (Path(value) if Path(value).is_absolute() else ROOT / value)


@pytest.fixture(scope="session")
def chromium(browser: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    """(Playwright context, blocked outside requests) over a fresh profile."""
    from tests.browser.driver import chromium_context

    with chromium_context(browser, tmp_path_factory.mktemp("chromium-profile")) as pair:
        yield pair


@pytest.fixture(scope="module")
def open_app(chromium: tuple[Any, list[str]], artifacts: Path, gallery: Path | None,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """``open_app(model, tags)`` starts the app and opens it in a new tab; both are
    closed when the module ends, and the app's exit is checked."""
    from tests.browser.driver import AppServer, ExplorerPage

    context, _ = chromium
    opened: list[tuple[AppServer, Any]] = []

    def start(model: Path, tags: str | None = None) -> ExplorerPage:
        server = AppServer.start(model, tmp_path_factory.mktemp(f"app-{model.name}"), tags)
        page = context.new_page()
        opened.append((server, page))
        explorer = ExplorerPage(page, artifacts, gallery)
        explorer.open(server.url)
        return explorer

    yield start
    for server, page in opened:
        page.close()
        code = server.stop()
        shutil.copy(server.log, artifacts / f"server-{server.log.parent.name}.log")
        assert code == 0, f"the app exited with {code}; see {server.log}"
        left = list(server.tmp.iterdir())
        shutil.rmtree(server.tmp, ignore_errors=True)
        assert not left, f"the app left files in its TMPDIR: {left}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call" and report.failed:
        for value in getattr(item, "funcargs", {}).values():
            page = getattr(value, "page", None)
            if page is not None and not page.is_closed():
                try:
                    page.screenshot(path=str(ARTIFACTS / f"FAILED-{item.name}.png"), full_page=True, timeout=5000)
                except Exception:  # a screenshot is a courtesy; never hide the real failure
                    pass
    return report
