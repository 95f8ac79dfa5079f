"""Optionally keep freed activations in the process heap while models run (glibc only).

A network's activations are allocated and freed op after op. By default glibc
serves large blocks with fresh ``mmap`` pages and returns freed memory to the
OS quickly, so every op pays page faults and zeroing for its output: a
quarter to a third of MobileNetV2's run time on a busy machine. ``tune_malloc``
makes malloc serve every block from its heap (mmap off, threshold at its
maximum) and keep up to 256 MiB of freed heap, so the next op reuses what the
last one freed. The cost: the process keeps heap it has used, up to its peak.

These are settings of the whole process, shared with every other library in
it, and glibc can neither report nor truly restore them (setting the mmap
threshold turns off its dynamic threshold for good). So they are opt-in: call
``sm_explorer.exec.tune_malloc()``, or set ``SM_EXPLORER_TUNE_MALLOC=1`` and
the first model run applies them. Without either, malloc is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

__all__ = ["tune_malloc", "tune_malloc_if_asked"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_MMAP_THRESHOLD = 32 << 20  # glibc's upper bound on 64-bit
_TRIM_THRESHOLD = 256 << 20
SETTINGS = [(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD), (_M_MMAP_MAX, 0)]
_state: bool | None = None


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None on other platforms and C libraries."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018  (glibc only: musl has no such knobs)
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt


def tune_malloc() -> bool:
    """Switch glibc's malloc to keeping freed blocks for reuse, for the rest of the process.

    Applied once; returns True if the settings are in effect. This is an explicit
    opt-in because it changes malloc for every library in the process (see the module doc).
    """
    global _state
    if _state is None:
        mallopt = _mallopt()
        _state = mallopt is not None and all(mallopt(param, value) for param, value in SETTINGS)
    return _state


def tune_malloc_if_asked() -> bool:
    """``tune_malloc()`` when ``SM_EXPLORER_TUNE_MALLOC`` says yes (1, true, yes, on); else nothing."""
    if os.environ.get("SM_EXPLORER_TUNE_MALLOC", "").strip().lower() in ("1", "true", "yes", "on"):
        return tune_malloc()
    return False
