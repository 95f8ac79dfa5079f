"""Keep freed activations in the process heap while models run (glibc only).

A network's activations are allocated and freed op after op. By default glibc
serves large blocks with fresh ``mmap`` pages and returns freed memory to the
OS quickly, so every op pays page faults and zeroing for its output: a
quarter to a third of MobileNetV2's run time on a busy machine. Here malloc
serves every block from its heap (mmap off, threshold at its maximum) and keeps
up to 256 MiB of freed heap, so the next op reuses what the last one freed.
The cost: the process keeps heap it has used, up to its peak; files are still
mapped with ``mmap`` directly. ``SM_EXPLORER_TUNE_MALLOC=0`` leaves malloc alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["tune_malloc"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_MMAP_THRESHOLD = 32 << 20  # glibc's upper bound on 64-bit
_TRIM_THRESHOLD = 256 << 20
_state: bool | None = None


def tune_malloc() -> bool:
    """Apply the settings once per process; True if they are in effect."""
    global _state
    if _state is not None:
        return _state
    _state = False
    if os.environ.get("SM_EXPLORER_TUNE_MALLOC", "1").strip() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        gnu = ctypes.CDLL(None).gnu_get_libc_version  # glibc only: musl has no such knobs
    except (OSError, AttributeError):
        return False
    del gnu
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = [(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD), (_M_MMAP_MAX, 0)]
    _state = all(mallopt(param, value) for param, value in settings)
    return _state
