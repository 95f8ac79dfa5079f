"""A library must not change the process it runs in behind the user's back.

malloc tuning is opt-in; BLAS thread limits last only while our own threads
work and are restored on every exit; the thread pool is made once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sm_explorer import examples
from sm_explorer.exec import memory

ROOT = Path(__file__).resolve().parents[2]

# Runs a model in a fresh process with every ctypes lookup of ``mallopt`` recorded, whoever makes it.
SPY = """
import ctypes, json, sys
seen = []
lookup = ctypes.CDLL.__getattr__
def spy(self, name):
    if name == "mallopt":
        seen.append(name)
    return lookup(self, name)
ctypes.CDLL.__getattr__ = spy
import numpy as np, sm_explorer
from sm_explorer import examples
from sm_explorer.exec import memory
signature = sm_explorer.load(examples.path("keras3_export")).signatures["serving_default"]
signature(image=np.ones([2, 8, 8, 3], np.float32))
if sys.argv[1] == "call":
    sm_explorer.exec.tune_malloc()
print(json.dumps({"looked_up": seen, "state": memory._state}))
"""


def _spy(mode: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "SM_EXPLORER_TUNE_MALLOC"}
    environ.update(env, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SPY, mode], capture_output=True, text=True, env=environ, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_malloc_is_left_alone_by_default() -> None:
    assert _spy("run") == {"looked_up": [], "state": None}
    assert _spy("run", SM_EXPLORER_TUNE_MALLOC="0") == {"looked_up": [], "state": None}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the settings are glibc's")
def test_malloc_tuning_is_opt_in() -> None:
    by_env = _spy("run", SM_EXPLORER_TUNE_MALLOC="1")
    by_call = _spy("call")
    assert by_env["looked_up"] == ["mallopt"] and by_call["looked_up"] == ["mallopt"]
    if memory._mallopt() is not None:  # glibc: the settings took
        assert by_env["state"] is True and by_call["state"] is True


def test_tune_malloc_applies_every_setting_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(memory, "_state", None)
    monkeypatch.setattr(memory, "_mallopt", lambda: lambda param, value: calls.append((param, value)) or 1)
    monkeypatch.delenv("SM_EXPLORER_TUNE_MALLOC", raising=False)
    assert memory.tune_malloc_if_asked() is False and calls == []
    monkeypatch.setenv("SM_EXPLORER_TUNE_MALLOC", "1")
    assert memory.tune_malloc_if_asked() is True
    assert memory.tune_malloc() is True
    assert calls == memory.SETTINGS


def test_a_run_never_calls_mallopt_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    import sm_explorer

    def forbidden() -> None:
        raise AssertionError("mallopt looked up without an opt-in")

    monkeypatch.setattr(memory, "_state", None)
    monkeypatch.setattr(memory, "_mallopt", forbidden)
    monkeypatch.delenv("SM_EXPLORER_TUNE_MALLOC", raising=False)
    signature = sm_explorer.load(examples.path("keras3_export")).signatures["serving_default"]
    signature(image=np.ones([2, 8, 8, 3], np.float32))
    assert memory._state is None
