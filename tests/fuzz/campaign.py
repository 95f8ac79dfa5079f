"""A fuzz campaign: mutated models run through the pipeline in worker processes.

``python -m tests.fuzz.campaign --n N --seed S`` runs cases 0..N-1 of campaign
S (deterministic: case i is the same model for the same seed list), then
writes each new failure, deduplicated by exception type and location, as a
small model folder under ``tests/fuzz/regressions/``. A worker that dies
(crash) or stops answering (hang in C code) costs one case: it is recorded
as a failure and a new worker carries on with the next case.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.mutators import Files, Seed, make_case

__all__ = ["default_seeds", "Worker", "Report", "run_campaign", "seed_timeouts", "describe_loss", "main"]

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("SM_EXPLORER_SHARED", ROOT.parent / "shared")) / "savedmodels"
FIXTURES = ROOT / "tests" / "fixtures" / "models"
SMALL_PROTO = 300_000  # bytes: bigger graphs take 0.1-1 s a case, too slow for `make test`


def default_seeds(pool: str = "small") -> list[tuple[str, str]]:
    """(name, folder) of every seed model, sorted: the fixtures, and the shared corpus
    if present. "small" leaves out models whose saved_model.pb(txt) is large."""
    roots = [("fixtures", p) for p in sorted(FIXTURES.iterdir()) if p.is_dir()]
    if CORPUS.is_dir():
        roots += [("corpus", p) for p in sorted(CORPUS.iterdir()) if p.is_dir() and p.name != "EXPECTED"]
    out = []
    for origin, root in roots:
        proto_bytes = sum(p.stat().st_size for p in root.rglob("saved_model.pb*") if p.is_file())
        if proto_bytes and (pool == "all" or proto_bytes <= SMALL_PROTO):
            out.append((f"{origin}/{root.name}", str(root)))
    return out


class Worker:
    """One worker process, restarted whenever it dies or stops answering."""

    def __init__(self, seeds: list[tuple[str, str]], timeout: float = 4.0, memory_mb: int = 2048,
                 soft_memory_mb: int = 512, timeouts: dict[str, float] | None = None) -> None:
        self.seeds, self.timeout, self.timeouts = seeds, timeout, timeouts or {}
        self.wait = max([timeout, *self.timeouts.values()]) + 30  # then the worker is unresponsive
        self.args = [str(timeout), str(memory_mb), str(soft_memory_mb)]
        self.proc: subprocess.Popen[bytes] | None = None
        self.buffer = b""
        self.eof = False
        # Ours, not the worker's: a killed worker cannot clean up after itself.
        self.tmp = Path(tempfile.mkdtemp(prefix="sm-fuzz-"))
        self.stderr_path = self.tmp / "worker.log"  # the worker's stderr: faulthandler writes there

    def _start(self) -> None:
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        cases = self.tmp / "cases"
        shutil.rmtree(cases, ignore_errors=True)  # what a lost worker left
        cases.mkdir()
        with self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzz.worker", *self.args, str(cases)], cwd=ROOT, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            )
        self.buffer, self.eof = b"", False
        assert self.proc.stdin is not None
        init = {"op": "init", "seeds": self.seeds, "timeouts": self.timeouts}
        self.proc.stdin.write((json.dumps(init) + "\n").encode())
        self.proc.stdin.flush()
        answer = self._read(120.0)
        if not answer or not answer.get("ready"):
            raise RuntimeError(f"the fuzz worker did not start: {answer} {self._log_tail()}")

    def _send(self, request: dict) -> None:
        """Send a request (to a live worker: one that died while idle is replaced)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.proc = None
        if self.proc is None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:  # it died just now: the answer read will say how
            pass

    def _read(self, limit: float) -> dict | None:
        """The next answer, or None if the worker died or said nothing for ``limit`` s."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + limit
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the worker closed its end: it is dying
                self.eof = True
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def _log_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _lost(self) -> dict:
        """Kill the worker and describe why it was lost (crash, or a hang the alarm
        could not stop), from the traceback faulthandler left in its log."""
        assert self.proc is not None
        if self.eof:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            kind, name = "hang", "Unresponsive"
        else:
            code = self.proc.returncode
            kind = "crash"
            try:
                name = signal.Signals(-code).name if code < 0 else f"exit {code}"
            except ValueError:
                name = f"signal {-code}"
        self.proc = None
        return describe_loss(kind, name, self._log_tail())

    def run_cases(self, campaign: int, indices: list[int], hash_rate: float = 0.0, recycle: int = 500):
        """Yield one answer per index, in order, whatever happens to the worker.

        A fresh worker every ``recycle`` cases: memory the code under test keeps
        across models (a leak) must not pile up and be blamed on a later case."""
        pending = list(indices)
        while pending:
            chunk = pending[:recycle]
            self._send({"op": "cases", "campaign": campaign, "indices": chunk, "hash_rate": hash_rate})
            while chunk:
                answer = self._read(self.wait)
                if answer is None:
                    failure = self._lost()
                elif "harness_error" in answer:  # our bug: reported, and a clean worker goes on
                    failure = {"kind": "harness", "exception": "-", "message": answer["harness_error"][-300:],
                               "stage": "?", "where": "?", "traceback": answer["harness_error"],
                               "signature": "harness:" + answer["harness_error"].strip().splitlines()[-1][:80]}
                else:
                    failure = None
                index = chunk.pop(0)
                pending.pop(0)
                if failure is None:
                    yield answer
                    continue
                yield {"index": index, "stage": "?", "secs": None, "failure": failure}
                break
            self.close(keep_log=True)

    def baseline(self) -> dict[str, float]:
        """Seconds the pipeline takes on each unmutated seed."""
        self._send({"op": "baseline"})
        answer = self._read(3600.0)
        if not answer or "baseline" not in answer:
            raise RuntimeError(f"timing the seeds failed: {answer} {self._log_tail()}")
        return answer["baseline"]

    def run_path(self, path: Path, specials: dict | None = None, timeout: float | None = None) -> dict:
        self._send({"op": "path", "path": str(path), "specials": specials or {}, "timeout": timeout})
        answer = self._read((timeout or self.timeout) + 30.0)
        if answer is None:
            return {"path": str(path), "stage": "?", "failure": self._lost()}
        if "harness_error" in answer:
            raise RuntimeError(answer["harness_error"])
        return answer

    def close(self, keep_log: bool = False) -> None:
        """Stop the worker (the log stays if it is to be restarted)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if not keep_log:
            shutil.rmtree(self.tmp, ignore_errors=True)


def describe_loss(kind: str, name: str, log: str) -> dict:
    """A lost worker as a failure, located by the traceback faulthandler wrote in
    its log. Lost while building a case (not in run_pipeline) is a harness bug."""
    dump = log.rsplit("most recent call first", 1)[-1] if "most recent call first" in log else ""
    frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', dump)  # innermost first
    ours = [(f, fn) for f, _, fn in frames if f.startswith(str(ROOT / "sm_explorer"))]
    where = f"{Path(ours[0][0]).relative_to(ROOT).as_posix()} {ours[0][1]}" if ours else "?"
    if frames and not any(fn == "run_pipeline" for _, _, fn in frames):
        kind = "harness"
    return {"kind": kind, "exception": name, "message": f"the worker was lost ({name})",
            "stage": "?", "where": where, "traceback": log, "signature": f"{kind}:{name}:{where}"}


@dataclass
class Report:
    """What a campaign saw: where cases stopped, and each distinct failure (its smallest case)."""

    n: int = 0
    seconds: float = 0.0
    hashed: int = 0
    stages: collections.Counter = field(default_factory=collections.Counter)
    failures: dict[str, dict] = field(default_factory=dict)  # signature -> smallest case
    counts: collections.Counter = field(default_factory=collections.Counter)
    slowest: tuple[float, int] = (0.0, -1)  # (seconds, case) of the slowest case that finished

    def summary(self) -> str:
        """A few lines for people: throughput, stages reached, each failure and its case."""
        lines = [f"{self.n} cases in {self.seconds:.1f} s ({self.n / max(self.seconds, 1e-9):.0f}/s), "
                 f"{self.hashed} checked for writes, slowest case {self.slowest[1]} took {self.slowest[0]:.2f} s; "
                 f"first clean error at: {dict(sorted(self.stages.items()))}"]
        for sig, f in sorted(self.failures.items()):
            lines.append(f"FAILURE x{self.counts[sig]} {sig} (stage {f['stage']}): {f['message'][:160]}")
            lines.append(f"    case {f['index']}: {f['seed']}: {' / '.join(f['mutations'])[:400]}")
        return "\n".join(lines)


def _size(files: Files) -> int:
    return sum(len(v) if isinstance(v, bytes) else 0 for v in files.values())


def run_campaign(n: int, seed: int, jobs: int = 1, pool: str = "small", hash_rate: float = 0.1,
                 timeout: float = 4.0, memory_mb: int = 2048, start: int = 0,
                 progress: bool = False) -> Report:
    """Run cases ``start``..``start + n - 1`` of campaign ``seed`` on ``jobs`` workers."""
    seeds = default_seeds(pool)
    local = [Seed(name, Path(root)) for name, root in seeds]
    timeouts = seed_timeouts(seeds, timeout, memory_mb)
    report = Report()
    lock = threading.Lock()
    began = time.monotonic()

    errors: list[BaseException] = []

    def drain(indices: list[int]) -> None:
        worker = Worker(seeds, timeout, memory_mb, timeouts=timeouts)
        try:
            for answer in worker.run_cases(seed, indices, hash_rate):
                with lock:
                    _record(report, answer, local, seed, pool)
                    if progress and report.n % 1000 == 0:
                        print(f"  {report.n}/{n} cases, {time.monotonic() - began:.0f} s, "
                              f"{len(report.failures)} distinct failures", file=sys.stderr, flush=True)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        finally:
            worker.close()

    threads = [threading.Thread(target=drain, args=(list(range(start + j, start + n, jobs)),)) for j in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    report.seconds = time.monotonic() - began
    return report


def seed_timeouts(seeds: list[tuple[str, str]], timeout: float, memory_mb: int = 2048) -> dict[str, float]:
    """The time limit of each seed's mutants: ``timeout``, or 5 times what the
    unmutated seed takes (plus a second) if that is more."""
    worker = Worker(seeds, timeout, memory_mb)
    try:
        return {name: round(max(timeout, 5 * secs + 1), 1) for name, secs in worker.baseline().items()}
    finally:
        worker.close()


def _record(report: Report, answer: dict, seeds: list[Seed], campaign: int, pool: str) -> None:
    report.n += 1
    report.hashed += bool(answer.get("hashed"))
    if answer.get("secs") is not None and not answer.get("failure"):
        report.slowest = max(report.slowest, (answer["secs"], answer["index"]))
    failure = answer.get("failure")
    report.stages["FAILURE" if failure else answer["stage"]] += 1
    if not failure:
        return
    entry = {**failure, "index": answer["index"], "campaign": campaign, "pool": pool, "seed": "?",
             "mutations": [], "size": 0, "timeout": answer.get("timeout")}
    if failure["kind"] != "harness":  # building the case may be what failed
        case = make_case(seeds, campaign, answer["index"])
        entry.update(seed=case.seed, mutations=case.mutations, size=_size(case.files))
    sig = failure["signature"]
    report.counts[sig] += 1
    kept = report.failures.get(sig)
    if kept is None or (entry["size"], entry["index"]) < (kept["size"], kept["index"]):
        report.failures[sig] = entry


def main(argv: list[str] | None = None) -> int:
    """Run a campaign, print what it found, save new failures; exit 1 if any failed."""
    from tests.fuzz.regress import REGRESSIONS, known_signatures, save_failure  # it imports this module

    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.campaign", description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="number of cases")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (cases are deterministic per seed)")
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--pool", choices=("small", "all"), default="all", help="seed models to mutate")
    parser.add_argument("--timeout", type=float, default=4.0, help="seconds per case (more for slow seeds)")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space limit of a worker")
    parser.add_argument("--hash-rate", type=float, default=0.1, help="share of cases checked for writes")
    parser.add_argument("--out", type=Path, default=REGRESSIONS, help="where new failures are written")
    parser.add_argument("--no-save", action="store_true", help="report failures without writing them")
    args = parser.parse_args(argv)
    report = run_campaign(args.n, args.seed, args.jobs, args.pool, args.hash_rate, args.timeout,
                          args.memory_mb, args.start, progress=True)
    print(report.summary())
    known = known_signatures(args.out)
    new = {sig: f for sig, f in report.failures.items() if sig not in known and f["kind"] != "harness"}
    if new and not args.no_save:
        seeds = [Seed(name, Path(root)) for name, root in default_seeds(args.pool)]
        worker = Worker(default_seeds(args.pool), args.timeout, args.memory_mb)
        try:
            for failure in new.values():
                print(f"wrote {save_failure(failure, args.out, worker, seeds)}")
        finally:
            worker.close()
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
