"""Running a kernel's blocks on several cores.

NumPy releases the GIL inside its loops, so a kernel that splits its output
into blocks can have threads work on separate runs of blocks. For the duration
of a large top-level run BLAS is limited to one thread (``threaded``): its idle
worker threads otherwise spin for a while after each product, taking the core
our second thread needs, and we split the products ourselves.

``SM_EXPLORER_THREADS`` sets the number of threads (default: the CPUs this
process may use, at most 8; 1 turns all of this off).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

__all__ = ["threads", "split", "splitting", "threaded", "matmul"]

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_local = threading.local()
_blas: Any = None  # threadpoolctl's controller, found once (False: not available)
# Elements fed to a run from which splitting pays on a 2-core machine (MobileNetV2 at batch 8:
# 12% faster; at batch 1 the hand-offs cost more than they save, and BLAS does better alone).
_THREADED_WORK = 1 << 20
_SMALL = 1 << 18  # multiply-adds below which a product is not worth splitting
_ROW_BLOCK = 1 << 19  # result elements per block of a split product (a fused tail reads it from cache)


def threads() -> int:
    """How many threads kernels split their work over."""
    text = os.environ.get("SM_EXPLORER_THREADS", "").strip()
    if text.isdigit() and int(text) > 0:
        return min(int(text), 64)
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers != workers:  # noqa: SLF001  (the setting changed)
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="sm_explorer")
        return _pool


def split(fn: Callable[[Sequence[T]], None], items: Sequence[T]) -> None:
    """Call ``fn`` on contiguous runs of ``items``, one per thread (this thread takes the first).

    Contiguous runs keep each thread on its own stretch of memory. Outside a
    ``threaded`` run, or inside a run that is already split, it all runs here.
    """
    parts = min(threads(), len(items))
    if parts <= 1 or not splitting():
        fn(items)
        return
    bounds = [len(items) * i // parts for i in range(parts + 1)]
    runs = [items[bounds[i] : bounds[i + 1]] for i in range(parts)]

    def work(run: Sequence[T]) -> None:
        _local.inside = True
        try:
            with np.errstate(all="ignore"):  # errstate is per thread; kernels run with it off
                fn(run)
        finally:
            _local.inside = False

    futures = [_executor(parts - 1).submit(work, run) for run in runs[1:]]
    try:
        work(runs[0])
    finally:
        for future in futures:
            future.result()


def splitting() -> bool:
    """Whether ``split`` would spread work over threads here."""
    return not getattr(_local, "inside", False)


@contextlib.contextmanager
def threaded(work: int) -> Iterator[None]:
    """Split kernels over the threads during this block, if ``work`` (the elements fed to the
    run) is large enough to pay for it, with BLAS limited to one thread (when threadpoolctl is
    there). Small runs keep BLAS's own threads and run every other kernel here."""
    global _blas
    wanted = splitting() and threads() > 1 and work >= _THREADED_WORK
    if wanted and _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        except Exception:  # not installed, or an odd BLAS: keep BLAS's own threads
            _blas = False
    if wanted and _blas is not False:
        with _blas.limit(limits=1, user_api="blas"):
            yield
        return
    outer = getattr(_local, "inside", False)
    _local.inside = True  # split() runs everything on this thread
    try:
        yield
    finally:
        _local.inside = outer


def matmul(a: np.ndarray, b: np.ndarray, each: Callable[[np.ndarray, slice], None] | None = None) -> np.ndarray:
    """``a @ b`` for 2-D ``a`` and ``b``, by blocks of rows split over the threads when large.

    ``each(block, rows)``, when given, runs on every block of the result right after
    its product, while the block is in cache (a fused tail).
    """
    rows, cols = a.shape[0], b.shape[1]
    out = np.empty((rows, cols), dtype=np.result_type(a, b))
    if rows * a.shape[1] * cols < _SMALL or (each is None and not splitting()):
        np.matmul(a, b, out=out)
        if each is not None and rows:
            each(out, slice(0, rows))
        return out
    step = max(1, min(_ROW_BLOCK // max(cols, 1), -(-rows // threads())))

    def run(spans: Sequence[slice]) -> None:
        for span in spans:
            np.matmul(a[span], b, out=out[span])
            if each is not None:
                each(out[span], span)

    split(run, [slice(i, min(i + step, rows)) for i in range(0, rows, step)])
    return out
