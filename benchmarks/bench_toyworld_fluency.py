"""Benchmark: does the toy world's SFT model stay fluent under preference training? (a script)

Runs a toy-world study (default ``sweeps/quickstart.yaml``: every method, every learning rate,
one epoch) through the real pipeline, then prints, per trial and for the SFT model, the share
of words in garbled sentences (:mod:`harness.toyworld.fluency`) next to the reply length,
content and padding words, the mean gold score and the KL, and per learning rate the worst
garbled share over methods and betas. A fluent model stays under
``FLUENT_GARBLED_SHARE`` (5%); a policy past the stability edge writes word salad (50-90%)::

    python benchmarks/bench_toyworld_fluency.py                              # quickstart grid
    python benchmarks/bench_toyworld_fluency.py --study sweeps/toyworld.yaml --set grid.epochs=[1]
    python benchmarks/bench_toyworld_fluency.py --results results/quickstart # an existing run

The study runs in its own results folder (``--results-dir``, default ``results/bench-fluency``)
so a user's results are never touched; re-running reuses finished trials. docs/toyworld.md
holds the table of the default world.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_study(study: str, results_dir: Path, sets: list[str]) -> Path:
    """Run ``study`` with ``sets`` into ``results_dir``; returns its results folder."""
    import yaml

    name = yaml.safe_load(Path(study).read_text())["study"]
    cmd = [sys.executable, "-m", "harness.sweep", study, "--set", f"results_dir={results_dir}"]
    for s in sets:
        cmd += ["--set", s]
    print("running:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    print(f"study ran in {time.perf_counter() - t0:.0f} s (load now {os.getloadavg()})")
    return results_dir / name


def table(results: Path):
    """Per trial (and the SFT model): fluency, length, content and padding, score, KL."""
    import json

    import pandas as pd

    from harness.artifacts import PreparedStudy, study_folder
    from harness.toyworld.fluency import eval_prompt_texts, fluency_table

    meta = json.loads((results / "study.json").read_text())
    prepared = PreparedStudy.load(study_folder(meta["config"]["artifacts_dir"], meta["study"]))
    prompts = eval_prompt_texts(pd.read_parquet(prepared.eval_prompts))
    trials = pd.read_parquet(results / "trials.parquet")
    samples = pd.read_parquet(results / "samples.parquet")
    baseline = pd.read_parquet(results / "baseline.parquet")
    flu = fluency_table(pd.concat([baseline, samples], ignore_index=True), prompts)
    # every method's axes, as study.json records them (the registrations' order)
    axes = list(dict.fromkeys(a["name"] for m in meta["methods"].values() for a in m["axes"]))
    cols = ["trial_id", "method", *axes, "status", "mean_score", "mean_kl", "mean_length"]
    rows = trials[[c for c in cols if c in trials.columns]]
    sft = pd.DataFrame([{"trial_id": "sft", "method": "sft", "status": "ok",
                         "mean_score": baseline["score"].mean(), "mean_kl": 0.0,
                         "mean_length": baseline["length"].mean()}])
    # the SFT model first, then by method and axis values
    order = ["method", *[a for a in axes if a in rows.columns]]
    return pd.concat([sft, rows.sort_values(order)],
                     ignore_index=True).merge(flu, on="trial_id", how="left")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default="sweeps/quickstart.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a study override (harness.sweep --set)")
    ap.add_argument("--results-dir", type=Path, default=ROOT / "results" / "bench-fluency")
    ap.add_argument("--results", type=Path, help="read this results folder, run nothing")
    args = ap.parse_args(argv)

    import pandas as pd

    from harness.objectives.axes import LEARNING_RATE
    from harness.toyworld.fluency import FLUENT_GARBLED_SHARE

    print(f"cores: {os.cpu_count()}  load at start: {os.getloadavg()}")
    results = args.results or run_study(args.study, args.results_dir.resolve(), args.set)
    t = table(results)
    with pd.option_context("display.width", 220, "display.max_columns", 30,
                           "display.float_format", lambda v: f"{v:.3g}"):
        print(t.drop(columns=["trial_id"]).to_string(index=False))
        worst = t[t["method"] != "sft"].groupby(LEARNING_RATE.name)["garbled_share"].max()
        print(f"\nworst garbled-word share per learning rate (bound {FLUENT_GARBLED_SHARE:.0%}):")
        print(worst.to_string())
    sft = float(t.loc[t["method"] == "sft", "garbled_share"].iloc[0])
    print(f"SFT model: {sft:.2%}; every trial under the bound: "
          f"{bool((t['garbled_share'].fillna(1.0) <= FLUENT_GARBLED_SHARE).all())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
