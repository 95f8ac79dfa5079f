"""Drive ``sm-explorer serve`` in Debian's Chromium: start and stop the app,
launch the browser, and find the explorer's parts in the page.

Every wait is bounded. The app runs in its own process group and is always
stopped (SIGTERM, then SIGKILL of that group). The browser may only talk to
127.0.0.1: any other request is aborted and recorded, and the tests assert
there were none.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # AppServer also serves tests that need no browser
    from playwright.sync_api import BrowserContext, Locator, Page, Route

__all__ = ["AppServer", "ExplorerPage", "chromium_context", "stop_process", "CHROMIUM_ARGS", "VIEWPORT"]

# Headless, no sandbox (tests run as root in containers), no GPU, none of the
# background traffic a fresh profile makes, and 127.0.0.1 reached directly.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server"]
VIEWPORT = {"width": 1000, "height": 800}
START_TIMEOUT = 60.0      # s: process start until the address is printed
LOAD_TIMEOUT = 90_000     # ms: first page load (starts a kernel, imports sm_explorer)
ACTION_TIMEOUT = 20_000   # ms: anything after that
URL = re.compile(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+")
GALLERY_MAX_BYTES = 150_000


def _entry_point() -> list[str]:
    script = Path(sys.executable).with_name("sm-explorer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sm_explorer.cli"]


@dataclass
class AppServer:
    """One ``sm-explorer serve`` process; ``tmp`` is its private TMPDIR."""

    process: subprocess.Popen[str]
    url: str
    log: Path
    tmp: Path
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, model: Path, workdir: Path, tags: str | None = None, extra: tuple[str, ...] = ()) -> AppServer:
        """Start the app on a free port and wait (bounded) for the address it prints."""
        # a short private TMPDIR: short enough for the kernel's ipc sockets, and
        # empty again after a clean stop
        tmp = Path(tempfile.mkdtemp(prefix="smx-"))
        log = workdir / "server.log"
        command = [*_entry_point(), "serve", str(model), "--no-browser", "--port", "0", *extra]
        if tags:
            command += ["--tag-set", tags]
        env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
        with open(log, "w") as err:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                                       cwd=workdir, start_new_session=True)
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:  # the app prints two lines; keep reading so the pipe never fills
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        try:
            while True:
                line = lines.get(timeout=START_TIMEOUT)
                seen.append(line)
                match = URL.search(line)
                if match:
                    return cls(process, match.group(0), log, tmp, seen)
        except queue.Empty:
            pass
        server = cls(process, "", log, tmp, seen)
        server.stop()
        raise RuntimeError(f"the app printed no address within {START_TIMEOUT:.0f}s; stdout {seen!r}; "
                           f"stderr:\n{log.read_text()[-3000:]}")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (the app then shuts its kernel down); SIGKILL its group if it hangs."""
        return stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> int:  # type: ignore[type-arg]
    """SIGTERM a server started in its own session; SIGKILL its process group if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    return process.returncode


@contextmanager
def chromium_context(executable: str, profile: Path) -> Iterator[tuple[BrowserContext, list[str]]]:
    """A Chromium with a fresh profile; yields it and the list of blocked outside requests."""
    blocked: list[str] = []

    def only_localhost(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    from playwright.sync_api import sync_playwright

    if profile.exists():
        shutil.rmtree(profile)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT,
            device_scale_factor=1, timeout=60_000,
        )
        try:
            context.set_default_timeout(ACTION_TIMEOUT)
            context.route("**/*", only_localhost)
            yield context, blocked
        finally:
            context.close()


class ExplorerPage:
    """The explorer in one browser tab, found by its stable CSS classes."""

    def __init__(self, page: Page, artifacts: Path, gallery: Path | None = None) -> None:
        self.page = page
        self.artifacts = artifacts
        self.gallery = gallery
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="domcontentloaded", timeout=LOAD_TIMEOUT)
        self.page.locator(".smx-explorer .smx-tabs").wait_for(timeout=LOAD_TIMEOUT)

    def tab(self, name: str) -> Locator:
        """Click the tab ``name``; returns its pane once the kernel has built and shown it."""
        self.page.locator(".smx-tabs").get_by_role("tab", name=name, exact=True).click()
        pane = self.page.locator(f".smx-pane-{name.lower()}")
        pane.wait_for(state="visible")
        return pane

    def graph_node(self, label: str) -> Locator:
        """The SVG node whose first label line is ``label`` (the node name)."""
        svg = self.page.locator(".smx-pane-graph .smx-graph svg")
        exact = self.page.locator("text").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        return svg.locator("g.node").filter(has=exact).first

    def press(self, description: str) -> None:
        self.page.get_by_role("button", name=description, exact=True).click()

    def text(self, selector: str) -> str:
        return " ".join(self.page.locator(selector).first.inner_text().split())

    def shot(self, name: str, gallery: bool = True, gallery_height: int = 800) -> Path:
        """Save the whole explorer as an artifact; with --gallery (and ``gallery``)
        also the top ``gallery_height`` pixels, 1000px wide, as a PNG for the README."""
        page = self.page
        page.wait_for_timeout(150)  # let the last widget update paint
        # Voila scrolls inside #rendered_cells, so a "full page" shot stops at the
        # viewport: size the viewport to what should be in the picture instead.
        height = int(page.locator(".smx-explorer").evaluate("e => e.getBoundingClientRect().bottom")) + 40
        path = self.artifacts / f"{name}.png"
        targets = [(path, min(height, 6000))]
        if gallery and self.gallery is not None:
            self.gallery.mkdir(parents=True, exist_ok=True)
            targets.append((self.gallery / f"{name}.png", min(height, gallery_height)))
        try:
            for target, tall in targets:
                page.set_viewport_size({"width": VIEWPORT["width"], "height": tall})
                page.wait_for_timeout(100)
                page.screenshot(path=str(target))
        finally:
            page.set_viewport_size(VIEWPORT)
        if len(targets) > 1:
            _check_size(targets[1][0])
        return path


def _check_size(path: Path) -> None:
    """The README's PNGs stay small (a 1000px-wide UI shot is ~40-110 KB)."""
    size = path.stat().st_size
    if size > GALLERY_MAX_BYTES:
        raise AssertionError(f"{path} is {size} bytes; the gallery wants < {GALLERY_MAX_BYTES}")
