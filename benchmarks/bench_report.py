"""Benchmark of the report on a large study (a script, not a test).

Builds a results folder with the fixture generator (tests/fixtures/results_fixture.py): the
default grid of 102 configs (DPO 24, LN-DPO 24, SimPO 54) x 3 training seeds x 2,000 eval
prompts (306 trials, 612,000 sample rows), plus confirmation runs, then times each stage of
``python -m analysis.report`` with the default 1,000 bootstrap replicates::

    python benchmarks/bench_report.py                       # 3 seeds x 102 configs x 2,000 prompts
    python benchmarks/bench_report.py --prompts 500 --seeds 1 --n-boot 200 --keep DIR

Prints seconds per stage (load, bootstrap, each analysis table, figures, writing) and the total.
The numbers depend on the machine's load: say what else ran when you quote them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def _fixture():
    spec = importlib.util.spec_from_file_location(
        "results_fixture", ROOT / "tests" / "fixtures" / "results_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Timer:
    def __init__(self):
        self.rows = []

    def __call__(self, name, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.rows.append((name, time.perf_counter() - t0))
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--confirm", type=int, default=2, help="confirmation runs per selected config")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--keep", default=None, help="build the study here and keep it")
    args = ap.parse_args()

    from analysis import analyze as A
    from analysis.load import load_study
    from analysis.report import FIG_DIR, _write
    from analysis.report.document import render_markdown
    from analysis.report.figures import report_figures

    tmp = tempfile.TemporaryDirectory()
    folder = Path(args.keep or tmp.name) / "bench"
    t0 = time.perf_counter()
    _fixture().make_results(folder, seed=0, n_prompts=args.prompts,
                            seeds=tuple(range(args.seeds)), confirm=args.confirm)
    print(f"built {folder} in {time.perf_counter() - t0:.1f} s (not part of the report's cost)")

    timer = Timer()
    total0 = time.perf_counter()
    study = timer("load_study", load_study, folder)
    # analyze() stage by stage, with the same calls it makes
    wrapped = {}
    for name in ("config_scores", "config_table", "head_to_head", "elo_table", "budget_curves",
                 "budget_table", "trials_to_beat_table", "poi_table", "importance_table",
                 "variance_table", "seed_table", "kl_summary", "top_k_samples",
                 "confirmation_table", "start_configs", "choose_method", "best_configs",
                 "study_compute", "breakdown_table"):
        fn = getattr(A, name)
        wrapped[name] = fn

        def timed(*a, _fn=fn, _name=name, **k):
            return timer(_name, _fn, *a, **k)
        setattr(A, name, timed)
    try:
        a = A.analyze(study, n_boot=args.n_boot)
    finally:
        for name, fn in wrapped.items():
            setattr(A, name, fn)
    figures = timer("figures", report_figures, a)
    md_text = timer("markdown", render_markdown, a, figures, FIG_DIR)
    timer("write report.md, report.html, PNGs", _write, folder / "report", figures, md_text,
          study.name)
    total = time.perf_counter() - total0

    n_trials = len(study.trials)
    print(f"\nstudy: {len(study.grid)} grid trials ({len(a.cs.config_ids)} configs x "
          f"{args.seeds} seeds) + {len(study.confirm)} confirmation runs, "
          f"{len(study.prompt_ids)} prompts, {len(study.responses)} sample rows, "
          f"{n_trials} trials; n_boot {args.n_boot}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, sec in sorted(timer.rows, key=lambda r: -r[1]):
        print(f"  {name:<40s} {sec:7.2f} s")
    print(f"  {'total (load + analyze + report)':<40s} {total:7.2f} s")


if __name__ == "__main__":
    main()
