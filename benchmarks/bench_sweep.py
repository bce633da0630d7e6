"""Sweep overhead: wall time of the last sweep run over (sum of its trial times / concurrency).

    python benchmarks/bench_sweep.py results/quickstart
    python benchmarks/bench_sweep.py --run sweeps/quickstart.yaml   # run it fresh first (new results dir)

The runner records ``last_run = {wall_s, concurrency, n_trials}`` in ``study.json`` (the time of
``Tuner.fit()``: Ray start-up excluded, scheduling, trial start-up, reporting and stopping
included) and each trial's own ``time_total_s`` (``harness.trial.run_trial``: loading, training,
evaluation). An overhead ratio of 1.0 means the grid ran exactly as fast as its trials' compute
packed onto ``concurrency`` slots; the target is <= 1.10.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def overhead(results: Path) -> dict:
    info = json.loads((results / "study.json").read_text())
    run = info.get("last_run")
    if not run:
        raise SystemExit(f"{results}/study.json has no last_run: run the sweep first")
    trials = pd.read_parquet(results / "trials.parquet")
    # the trials of the last run are the ones whose rows were written during it: with a
    # resumed study, pass a fresh results dir for a clean measurement
    work = trials["time_total_s"].astype(float).sum()
    ideal = work / run["concurrency"]
    return {
        "trials": len(trials),
        "trials_in_last_run": run["n_trials"],
        "concurrency": run["concurrency"],
        "wall_s": round(run["wall_s"], 1),
        "sum_trial_s": round(work, 1),
        "ideal_wall_s": round(ideal, 1),
        "overhead_ratio": round(run["wall_s"] / ideal, 3),
        "per_method_mean_trial_s": trials.groupby("method")["time_total_s"].mean().round(1).to_dict(),
    }


def main() -> int:
    from harness.cli import plain

    ap = argparse.ArgumentParser(description=plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="?", help="a results/<study> folder")
    ap.add_argument("--run", help="a study YAML to run first, into a fresh results dir")
    args = ap.parse_args()
    if args.run:
        out = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness.sweep", args.run, "--results", str(out)],
                       check=True)
        print(f"whole command: {time.perf_counter() - t0:.1f} s (prepare included)")
        import yaml

        results = out / yaml.safe_load(open(args.run))["study"]
    elif args.results:
        results = Path(args.results)
    else:
        ap.error("give a results folder or --run STUDY.yaml")
    print(json.dumps(overhead(results), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
