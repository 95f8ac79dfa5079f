"""The process that runs fuzz cases, with a time limit and a memory ceiling.

It runs apart from the campaign so that a hostile model that allocates too
much, hangs in C code or crashes the interpreter costs one case, not the
campaign: the parent notices the missing answer and starts a new worker.
Protocol: one JSON request per line on stdin, one JSON answer per case on
the original stdout (fd 1 itself is pointed at stderr, so a stray print in
the code under test cannot corrupt it).
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import stat
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType

import sm_explorer
from tests.fuzz.mutators import Seed, Special, load_seed, make_case, write_model
from tests.fuzz.pipeline import STAGES, run_pipeline

__all__ = ["main", "tree_state", "describe_failure", "CaseTimeout"]

PACKAGE_DIR = Path(sm_explorer.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` eats it."""


def _on_alarm(signum: int, frame: object) -> None:
    raise CaseTimeout("the case ran past its time limit")


def tree_state(root: Path) -> dict[str, str]:
    """Names, types, modes and contents of everything under ``root`` (FIFOs never opened)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            info = full.lstat()
            rel = full.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                out[rel] = f"link {os.readlink(full)}"
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(full.read_bytes()).hexdigest()
                out[rel] = f"file {info.st_mode:o} {info.st_mtime_ns} {digest}"
            else:
                out[rel] = f"other {info.st_mode:o}"
    return out


def _where(tb: TracebackType | None, with_line: bool) -> str:
    """The innermost frame in sm_explorer (else the innermost frame) as "file:line function"."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(PACKAGE_DIR)]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "?"
    try:
        name = Path(frame.filename).resolve().relative_to(REPO_DIR).as_posix()
    except ValueError:
        name = Path(frame.filename).name
    return f"{name}:{frame.lineno} {frame.name}" if with_line else f"{name} {frame.name}"


def _stage(tb: TracebackType | None) -> str:
    """The pipeline stage a traceback went through (the stages' own code objects)."""
    codes = {fn.__code__: name for name, fn in STAGES}
    for frame, _ in traceback.walk_tb(tb):
        if frame.f_code in codes:
            return codes[frame.f_code]
    return "?"


def describe_failure(exc: BaseException, kind: str) -> dict:
    """What the campaign keeps of a failure; ``signature`` is what deduplicates it."""
    tb = exc.__traceback__
    cls = type(exc)
    plain = cls.__module__ in ("builtins", __name__, "__main__")  # ours runs as __main__
    name = cls.__qualname__ if plain else f"{cls.__module__}.{cls.__qualname__}"
    # A hang stops wherever the alarm fell: the line varies, the function less.
    where = _where(tb, with_line=kind != "hang")
    return {
        "kind": kind,
        "exception": name,
        "message": str(exc)[:400],
        "stage": _stage(tb),
        "where": where,
        "traceback": "".join(traceback.format_exception(exc, limit=-12))[-4000:],
        "signature": f"{kind}:{name}:{where}",
    }


class Runner:
    """Runs cases in a private temporary folder, one at a time."""

    def __init__(self, timeout: float, soft_memory_mb: int, tmp: Path) -> None:
        self.timeout = timeout
        self.timeouts: dict[str, float] = {}  # per seed: slow real models get more time
        self.soft_memory_kb = soft_memory_mb * 1024
        self.seeds: list[Seed] = []
        self.tmp = tmp  # made and removed by the parent
        signal.signal(signal.SIGALRM, _on_alarm)

    def run(self, path: Path, check_tree: bool, timeout: float | None = None) -> dict:
        """Run the pipeline on ``path`` within the limits; describe any failure."""
        before = tree_state(path) if check_tree else None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        failure = None
        stage = "?"
        timeout = timeout or self.timeout
        start = time.perf_counter()
        try:
            # If the alarm cannot fire (stuck in C), this dump tells the parent where.
            faulthandler.dump_traceback_later(timeout + 5, file=sys.stderr)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                stage = run_pipeline(path)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                faulthandler.cancel_dump_traceback_later()
        except CaseTimeout as exc:
            failure = describe_failure(exc, "hang")
        except MemoryError as exc:
            failure = describe_failure(exc, "memory")
        except Exception as exc:
            failure = describe_failure(exc, "exception")
        secs = time.perf_counter() - start
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
        if failure is None and grown > self.soft_memory_kb:
            failure = {
                "kind": "memory", "exception": "-", "message": f"peak memory grew by {grown // 1024} MiB",
                "stage": stage, "where": "?", "traceback": "", "signature": "memory:rss",
            }
        if failure is None and before is not None and tree_state(path) != before:
            failure = {
                "kind": "modified", "exception": "-", "message": "files under the model folder changed",
                "stage": stage, "where": "?", "traceback": "", "signature": "modified:tree",
            }
        return {"stage": stage if failure is None else failure["stage"], "failure": failure,
                "secs": round(secs, 4), "hashed": before is not None, "timeout": timeout}

    def run_case(self, campaign: int, index: int, hash_rate: float) -> dict:
        """Build case ``index``, write it to a fresh folder, run it, remove it."""
        case = make_case(self.seeds, campaign, index)
        folder = self.tmp / f"case-{index}"
        write_model(case.files, folder / "model")
        check = random.Random(f"hash:{campaign}:{index}").random() < hash_rate
        try:
            result = self.run(folder / "model", check, self.timeouts.get(case.seed))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"index": index, **result}

    def baseline(self) -> dict[str, float]:
        """Seconds each unmutated seed takes: a mutant of a model that legitimately
        runs for seconds is not hanging when it runs as long."""
        out = {}
        for seed in self.seeds:
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, 120)
            try:
                run_pipeline(seed.root)
            except BaseException:  # a broken seed is timed all the same
                pass
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            out[seed.name] = round(time.perf_counter() - start, 4)
        return out

    def run_path(self, path: Path, specials: dict[str, dict], timeout: float | None = None) -> dict:
        """A saved case: copied (specials recreated), run, hashed before and after."""
        folder = self.tmp / "path"
        shutil.rmtree(folder, ignore_errors=True)
        files = {k: v for k, v in load_seed(path).items() if k != "FUZZ_CASE.json"}
        files.update({rel: Special(s["kind"], s.get("target", "")) for rel, s in specials.items()})
        write_model(files, folder / "model")
        try:
            return {"path": str(path), **self.run(folder / "model", True, timeout)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _serve(runner: Runner, out: object) -> None:
    """Answer requests until stdin closes (the parent kills us to stop a case)."""
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "init":
                runner.seeds = [Seed(name, Path(root)) for name, root in request["seeds"]]
                runner.timeouts = request.get("timeouts", {})
                if runner.seeds:  # warm up: lazy imports (NumPy) must not count against case 1
                    run_pipeline(runner.seeds[0].root)
                answers = [{"ready": True}]
            elif request["op"] == "cases":
                for index in request["indices"]:
                    answer = runner.run_case(request["campaign"], index, request.get("hash_rate", 0.0))
                    out.write(json.dumps(answer) + "\n")  # type: ignore[attr-defined]
                    out.flush()  # type: ignore[attr-defined]
                answers = []
            elif request["op"] == "baseline":
                answers = [{"baseline": runner.baseline()}]
            else:
                answers = [runner.run_path(Path(request["path"]), request.get("specials", {}), request.get("timeout"))]
        except Exception:  # a bug of the harness itself, not of the code under test
            answers = [{"harness_error": traceback.format_exc()}]
        for answer in answers:
            out.write(json.dumps(answer) + "\n")  # type: ignore[attr-defined]
            out.flush()  # type: ignore[attr-defined]


def main() -> None:
    """Entry point: ``python -m tests.fuzz.worker TIMEOUT MEMORY_MB SOFT_MEMORY_MB TMP_DIR``."""
    timeout, memory_mb, soft_mb = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    faulthandler.enable(sys.stderr)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _serve(Runner(timeout, soft_mb, Path(sys.argv[4])), out)


if __name__ == "__main__":
    main()
