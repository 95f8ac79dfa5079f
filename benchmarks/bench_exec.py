"""Issue 4 benchmark: the NumPy backend against TensorFlow, same run.

    python benchmarks/bench_exec.py [--models mobilenet_v2 resnet50] [--batches 1 8] [--no-tune-malloc]

For each model and batch size: the median wall time of the serving signature
on NumPy (after one warm-up call) and in TensorFlow (a fresh process, after
one warm-up call), their ratio (target: at most 2x), and peak memory.

Shared machines drift by tens of percent within a minute, so the two backends
are measured in alternating rounds (``--rounds``, fresh processes each time):
the table shows the median over rounds of each side, and the range of the
per-round ratios.

The NumPy side opts in to ``sm_explorer.exec.tune_malloc()`` (glibc keeps freed
activations in its heap; off by default in the library because it is process-wide);
``--no-tune-malloc`` measures the library's default instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ENV, have_tensorflow, model_path, report  # noqa: E402

TF_RUN = """
import json, sys, time, resource
import numpy as np, tensorflow as tf
path, batch, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fn = tf.saved_model.load(path).signatures["serving_default"]
(name, spec), = fn.structured_input_signature[1].items()
shape = [batch] + [d for d in spec.shape.as_list()[1:]]
x = tf.constant(np.random.default_rng(0).uniform(0, 3, shape).astype(np.float32))
fn(**{name: x})
times = []
for _ in range(repeat):
    t = time.perf_counter(); fn(**{name: x}); times.append(time.perf_counter() - t)
print(json.dumps({"median": sorted(times)[len(times) // 2],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

OURS_RUN = """
import json, sys, time, resource
import os
import numpy as np, sm_explorer, sm_explorer.exec
path, batch, repeat, malloc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.environ.pop("SM_EXPLORER_TUNE_MALLOC", None)  # the command line decides
if malloc == "tune":
    assert sm_explorer.exec.tune_malloc(), "malloc tuning asked for, but not available here"
sig = sm_explorer.load(path).signatures["serving_default"]
(name, spec), = sig.inputs.items()
shape = [batch] + [d for d in spec.shape[1:]]
x = np.random.default_rng(0).uniform(0, 3, shape).astype(np.float32)
sig(**{name: x})
times = []
for _ in range(repeat):
    t = time.perf_counter(); sig(**{name: x}); times.append(time.perf_counter() - t)
print(json.dumps({"median": sorted(times)[len(times) // 2],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, path: Path, batch: int, repeat: int, *extra: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(path), str(batch), str(repeat), *extra],
                         capture_output=True, text=True, env=ENV)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "resnet50"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per process")
    parser.add_argument("--rounds", type=int, default=3, help="alternating NumPy/TF process pairs")
    parser.add_argument("--no-tune-malloc", action="store_true", help="leave glibc's malloc alone (the default)")
    args = parser.parse_args()
    malloc = "plain" if args.no_tune_malloc else "tune"
    tf = have_tensorflow()
    rows = []
    for name in args.models:
        path = model_path(name)
        for batch in args.batches:
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(measure(OURS_RUN, path, batch, args.repeat, malloc))
                if tf:
                    theirs.append(measure(TF_RUN, path, batch, args.repeat))
            mine = statistics.median(r["median"] for r in ours)
            text = f"numpy {mine * 1e3:7.1f} ms (peak {max(r['peak_mib'] for r in ours):.0f} MiB)"
            if tf:
                tf_time = statistics.median(r["median"] for r in theirs)
                ratios = sorted(a["median"] / b["median"] for a, b in zip(ours, theirs))
                text += (
                    f" | tf {tf_time * 1e3:7.1f} ms (peak {max(r['peak_mib'] for r in theirs):.0f} MiB)"
                    f" | ratio {mine / tf_time:.2f}x (rounds {ratios[0]:.2f}-{ratios[-1]:.2f})"
                )
            rows.append((f"{name} batch {batch}", text))
    tuning = "left alone (--no-tune-malloc)" if args.no_tune_malloc else "tuned (sm_explorer.exec.tune_malloc())"
    print(f"finished {time.strftime('%H:%M:%S')}; peak memory is per process; NumPy side: malloc {tuning}")
    report(rows)


if __name__ == "__main__":
    main()
