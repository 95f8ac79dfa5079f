"""Saving a failing case as a regression: a small, minimized model folder.

A campaign's failure is regenerated from (campaign seed, case index), files
the failure does not need are dropped one by one while it still reproduces
(same signature), and the rest is written under ``regressions/<name>/`` with
a FUZZ_CASE.json saying what failed and how it was made.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from tests.fuzz.campaign import Worker, default_seeds
from tests.fuzz.mutators import Files, Seed, Special, make_case, write_model

__all__ = ["REGRESSIONS", "minimize", "known_signatures", "save_failure"]

REGRESSIONS = Path(__file__).resolve().parent / "regressions"


def _specials(files: Files) -> dict[str, dict]:
    return {rel: {"kind": v.kind, "target": v.target} for rel, v in files.items() if isinstance(v, Special)}


def minimize(files: Files, signature: str, worker: Worker, max_trials: int = 16,
             timeout: float | None = None) -> Files:
    """Drop every file the failure does not need (one at a time, while it still reproduces)."""
    tmp = Path(tempfile.mkdtemp(prefix="sm-fuzz-min-"))
    try:
        for trials, rel in enumerate(sorted(files)):
            if trials >= max_trials:
                break
            trial = {k: v for k, v in files.items() if k != rel}
            folder = tmp / f"t{trials}"
            write_model({k: v for k, v in trial.items() if isinstance(v, bytes)}, folder)
            answer = worker.run_path(folder, _specials(trial), timeout)
            if (answer.get("failure") or {}).get("signature") == signature:
                files = trial
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return files


def _short_name(failure: dict) -> str:
    """E.g. "oserror-bundle-_map", "hang-bundle-shard_path", "crash-sigsegv"."""
    parts = [] if failure["kind"] == "exception" else [failure["kind"]]
    if failure["exception"] not in ("-", "CaseTimeout", "MemoryError"):
        parts.append(failure["exception"])
    if failure["where"] != "?":
        file, _, function = failure["where"].partition(" ")
        parts += [Path(file.split(":")[0]).stem, function]
    name = "-".join(parts).lower()
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60]


def known_signatures(folder: Path = REGRESSIONS) -> set[str]:
    """Signatures already saved, so a campaign writes only new failures."""
    out = set()
    for case in folder.glob("*/FUZZ_CASE.json"):
        out.add(json.loads(case.read_text())["signature"])
    return out


def save_failure(failure: dict, folder: Path = REGRESSIONS, worker: Worker | None = None,
                 seeds: list[Seed] | None = None) -> Path:
    """Write the failing case as ``folder/<short-name>/`` (minimized if a worker is given).

    Regular files are written as they are; FIFOs, symlinks and directories
    standing in for files are listed in FUZZ_CASE.json and recreated by the
    test, since git cannot hold all of them."""
    seeds = seeds or [Seed(name, Path(root)) for name, root in default_seeds(failure["pool"])]
    files = make_case(seeds, failure["campaign"], failure["index"]).files
    if worker is not None:
        files = minimize(files, failure["signature"], worker, timeout=failure.get("timeout"))
    name = base = _short_name(failure)
    k = 2
    while (folder / name).exists():
        name, k = f"{base}-{k}", k + 1
    dest = folder / name
    write_model({k: v for k, v in files.items() if isinstance(v, bytes)}, dest)
    meta = {k: failure[k] for k in ("signature", "kind", "exception", "message", "stage", "where",
                                    "seed", "mutations", "campaign", "pool", "index", "timeout")}
    meta["specials"] = _specials(files)
    meta["traceback"] = failure["traceback"].splitlines()
    meta["reproduce"] = (f"python -m tests.fuzz.campaign --pool {failure['pool']} --seed {failure['campaign']} "
                         f"--start {failure['index']} --n 1 --no-save")
    (dest / "FUZZ_CASE.json").write_text(json.dumps(meta, indent=1) + "\n")
    return dest
