"""Issue 2 benchmark: opening a Keras ResNet50 export, in-process and as a CLI process.

    python benchmarks/bench_load.py [--model resnet50]

1. sm_explorer.load() + every signature + every variable's metadata, in-process
   (target: 60 ms or less), against tf.saved_model.load in a separate process.
2. The whole `sm-explorer show DIR` process against `saved_model_cli show --all
   --dir DIR` (targets: at least 20x faster, at most 150 MB peak RSS).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ENV, best_of, have_tensorflow, model_path, report, run_process  # noqa: E402

TF_LOAD = """
import sys, time
import tensorflow as tf
start = time.perf_counter()
m = tf.saved_model.load(sys.argv[1])
list(m.signatures.items()); [(v.name, v.shape, v.dtype) for v in m.variables]
print(time.perf_counter() - start)
"""


def open_and_list(path: Path) -> int:
    import sm_explorer

    loaded = sm_explorer.load(path)
    count = 0
    for sig in loaded.signatures.values():
        count += len(sig.inputs) + len(sig.outputs)
    for v in loaded.saved_model.variables:
        count += len((v.name, v.shape, v.dtype, v.checkpoint_key, v.trainable))
    for entry in loaded.saved_model.checkpoint.entries.values():
        count += len(entry.shape)
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet50")
    args = parser.parse_args()
    path = model_path(args.model)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
    tf = have_tensorflow()
    print(f"model: {path} ({size:.0f} MiB); TensorFlow installed: {tf}")

    import sm_explorer  # noqa: F401  (imports are not part of the in-process figure)

    open_and_list(path)  # warm the OS page cache for both sides
    low, median = best_of(lambda: open_and_list(path))
    rows = [("sm_explorer.load + list (in-process)", f"min {low * 1e3:.1f} ms, median {median * 1e3:.1f} ms")]
    if tf:
        out = subprocess.run([sys.executable, "-c", TF_LOAD, str(path)], capture_output=True, text=True, env=ENV)
        tf_time = float(out.stdout.strip().splitlines()[-1])
        rows.append(("tf.saved_model.load + list", f"{tf_time * 1e3:.0f} ms  (ratio {tf_time / median:.0f}x)"))

    cli = shutil.which("sm-explorer", path=str(Path(sys.executable).parent)) or "sm-explorer"
    ours = min((run_process([cli, "show", str(path)]) for _ in range(3)), key=lambda r: r[0])
    rows.append(("sm-explorer show (process)", f"{ours[0] * 1e3:.0f} ms, peak {ours[1]:.0f} MiB, exit {ours[2]}"))
    if tf:
        smc = shutil.which("saved_model_cli", path=str(Path(sys.executable).parent))
        theirs = run_process([smc, "show", "--all", "--dir", str(path)])
        rows.append(("saved_model_cli show --all (process)",
                     f"{theirs[0] * 1e3:.0f} ms, peak {theirs[1]:.0f} MiB, exit {theirs[2]}"))
        rows.append(("speed-up / memory ratio", f"{theirs[0] / ours[0]:.1f}x faster, "
                     f"{theirs[1] / ours[1]:.1f}x less memory"))
    report(rows)


if __name__ == "__main__":
    main()
