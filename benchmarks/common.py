"""Shared benchmark helpers: timing, peak memory of a child process, TF presence."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / ".cache" / "models"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def model_path(name: str) -> Path:
    path = MODELS / name
    if not path.is_dir():
        sys.exit(f"{path} is missing: run `python benchmarks/make_models.py --only {name}` (needs TensorFlow)")
    return path


def have_tensorflow() -> bool:
    result = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, env=ENV)
    return result.returncode == 0


def best_of(fn: Callable[[], object], repeat: int = 7) -> tuple[float, float]:
    """(min, median) wall seconds of ``fn`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def run_process(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in MiB, exit code) of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def report(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
