"""Benchmark of the training stage: trial cost of every method of a study (a script, not a test).

Every method trains the same SFT model on the same pairs with the same settings, each trial in
a FRESH subprocess (so imports, warm-up and peak RSS are comparable), the methods interleaved
(dpo, ln_dpo, simpo, ..., dpo_live, dpo, ...), and the table reports medians over ``--repeats``.
A method's hyperparameters (learning rate and epochs included) are the first point of its grid
in ``--study`` (default ``sweeps/family.yaml``: every registered method)::

    python benchmarks/bench_train.py                          # the default toy world (artifacts/)
    python benchmarks/bench_train.py --world DIR --pairs 512 --batch-size 16 --repeats 3
    python benchmarks/bench_train.py --study sweeps/quickstart.yaml --methods dpo,simpo,dpo_live

Per method: median seconds per optimizer step (wall and CPU), the trial's wall time
(``train_policy``: load the policy, tokenize, train; TRL is imported before the clock starts,
as in a reused Ray worker), the process's wall time (imports included) and its peak RSS.
Methods that need the reference read the shared reference cache, whose one-time cost (a fresh
process running :func:`harness.reference.build_reference`) is reported on its own; ``dpo_live``
is DPO with the reference model loaded into the trial and run on every batch (what the shared
cache replaces). Then the trial-cost ratios against SimPO; the target is <= 1.05 for the
reference-based methods with the cache.

``--threads 1`` (the default) matches a quickstart trial (``cpus_per_trial: 1``: Ray sets
OMP_NUM_THREADS=1) and is the least sensitive to other load on a shared machine; the load
average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "BENCH_RESULT "
LIVE = "_live"  # "<method>_live": the method with its reference model computed on the fly


def first_grid_points(study_path: str) -> dict[str, dict]:
    """``method -> hyperparameters`` of the first trial of each method's grid in the study."""
    from harness.config import load_study
    from harness.grid import expand

    out: dict[str, dict] = {}
    for spec in expand(load_study(study_path)):
        out.setdefault(spec.method, spec.hyperparameters())
    return out


# -- worker: one trial (or the reference build) in this fresh process ---------------------------


def _training(spec: dict):
    from harness.config.sections import TrainingConfig

    return TrainingConfig(
        batch_size=spec["batch_size"],
        max_length=spec["max_length"],
        warmup_ratio=0.1,
        lr_scheduler_type="cosine",
        logging_steps=5,
    )


def _pairs(spec: dict):
    import pandas as pd

    from harness.io import read_jsonl

    return pd.DataFrame(read_jsonl(Path(spec["world"]) / "train_pairs.jsonl")).iloc[: spec["pairs"]]


def _step_timer():
    """A TrainerCallback timing every optimizer step (wall and process CPU)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.wall, self.cpu = [], []

        def on_step_begin(self, *a, **k):
            self._t, self._c = time.perf_counter(), time.process_time()

        def on_step_end(self, *a, **k):
            self.wall.append(time.perf_counter() - self._t)
            self.cpu.append(time.process_time() - self._c)

    return StepTimer()


def _run_trial(spec: dict) -> dict:
    import harness.train as train_mod
    from harness.models import LOADS, load_causal_lm, peak_memory_mb
    from harness.objectives import get_objective
    from harness.reference import load_reference

    variant = spec["method"]
    method = variant.removesuffix(LIVE)
    live = variant != method
    policy = str(Path(spec["world"]) / "sft")
    pairs = _pairs(spec)
    reference = load_reference(spec["reference"])
    timer, trainers = _step_timer(), []
    make_trainer = train_mod._make_trainer

    def instrumented(model, tokenizer, rows, args, objective, hparams, reference):
        if live:
            # The slow path the cache replaces: a reference model in the trial, run on every batch.
            from datasets import Dataset

            from harness.preference_trainer import PreferenceTrainer

            trainer = PreferenceTrainer(
                model=model,
                ref_model=load_causal_lm(policy, dtype=spec["dtype"]),
                args=args,
                train_dataset=Dataset.from_list(rows),
                processing_class=tokenizer,
                objective=objective,
                hparams=hparams,
                reference=None,
            )
        else:
            trainer = make_trainer(model, tokenizer, rows, args, objective, hparams, reference)
        trainer.add_callback(timer)
        trainers.append(trainer)
        return trainer

    train_mod._make_trainer = instrumented
    import harness.preference_trainer  # noqa: F401  (TRL, datasets: imports are not trial cost)

    needs_reference = get_objective(method).needs_reference
    t0, c0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as out:
        result = train_mod.train_policy(
            method=method,
            hparams=spec["hparams"],
            seed=0,
            training=_training(spec),
            policy_path=policy,
            train_pairs=pairs,
            reference=reference if needs_reference else None,
            output_dir=out,
            dtype=spec["dtype"],
            tensorboard=False,
        )
    trial_s, trial_cpu = time.perf_counter() - t0, time.process_time() - c0
    (trainer,) = trainers
    steps = trainer.state.global_step
    return {
        "status": result.status,
        "steps": steps,
        "step_s": statistics.median(timer.wall),
        "step_cpu_s": statistics.mean(timer.cpu),
        "train_loop_s": sum(timer.wall),
        "trial_s": trial_s,
        "trial_cpu_s": trial_cpu,
        "peak_rss_mb": peak_memory_mb(),
        "model_loads": sum(LOADS.values()),
        "ref_model": trainer.ref_model is not None,
        "train_loss": result.metrics.get("train_loss"),
    }


def _run_reference(spec: dict) -> dict:
    from harness.io import hash_dir, hash_json
    from harness.models import peak_memory_mb
    from harness.reference import build_reference

    policy = str(Path(spec["world"]) / "sft")
    pairs = _pairs(spec)
    t0, c0 = time.perf_counter(), time.process_time()
    path, hit = build_reference(
        policy,
        hash_dir(policy),
        pairs,
        hash_json(pairs.to_dict(orient="records")),
        _training(spec),
        spec["cache_dir"],
        spec["dtype"],
    )
    return {
        "path": str(path),
        "cache_hit": hit,
        "build_s": time.perf_counter() - t0,
        "build_cpu_s": time.process_time() - c0,
        "peak_rss_mb": peak_memory_mb(),
    }


def worker(spec: dict) -> None:
    import torch

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    out = _run_reference(spec) if spec["method"] == "reference" else _run_trial(spec)
    print(MARK + json.dumps(out), flush=True)


# -- driver -------------------------------------------------------------------------------------


def spawn(spec: dict) -> dict:
    """Run one worker in a fresh interpreter; its result plus the process's wall time and load."""
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(spec["threads"]),
        TOKENIZERS_PARALLELISM="false",
        TQDM_DISABLE="1",
        TRL_EXPERIMENTAL_SILENCE="1",
    )
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode or not lines:
        raise RuntimeError(
            f"worker {spec['method']} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return dict(json.loads(lines[-1][len(MARK) :]), process_s=wall, load1=load)


def default_world() -> Path:
    from harness.toyworld.build import build_toyworld
    from harness.toyworld.config import ToyWorldConfig

    folder, hit = build_toyworld(ToyWorldConfig(), ROOT / "artifacts")
    print(f"default toy world {'(cached)' if hit else '(built)'}: {folder}")
    return folder


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--world", type=Path, help="a built toy world folder (default: build under artifacts/)"
    )
    ap.add_argument("--study", default=str(ROOT / "sweeps" / "family.yaml"),
                    help="each method's hyperparameters: the first point of its grid here")
    ap.add_argument("--pairs", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per trial")
    ap.add_argument("--methods", help="comma-separated (default: the study's methods, then dpo_live)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))

    import pandas as pd

    world = (args.world or default_world()).resolve()
    points = first_grid_points(args.study)
    live = ["dpo" + LIVE] if "dpo" in points else []
    methods = args.methods.split(",") if args.methods else [*points, *live]
    hparams = {m: points[m.removesuffix(LIVE)] for m in methods}
    base = {
        "world": str(world),
        "pairs": args.pairs,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "threads": args.threads,
        "dtype": "float32",
    }
    print(
        f"world: {world}\npairs: {args.pairs}  batch_size: {args.batch_size}  "
        f"max_length: {args.max_length}  torch threads: {args.threads}  repeats: {args.repeats}  "
        f"cores: {os.cpu_count()}  load at start: {os.getloadavg()}"
    )
    for m in methods:
        print(f"  {m}: {hparams[m]}")

    with tempfile.TemporaryDirectory(prefix="bench-train-ref-") as cache_dir:
        ref = spawn(dict(base, method="reference", cache_dir=cache_dir))
        print(
            f"reference cache (one-time, shared by every trial whose method needs it): "
            f"{ref['build_s']:.2f} s in build_reference ({ref['build_cpu_s']:.2f} s CPU), "
            f"{ref['process_s']:.2f} s with process start, peak RSS {ref['peak_rss_mb']:.0f} MB"
        )
        # warm the file cache; not counted
        spawn(dict(base, method=methods[0], hparams=hparams[methods[0]], reference=ref["path"]))
        rows = []
        for r in range(args.repeats):
            for m in methods:
                res = spawn(dict(base, method=m, hparams=hparams[m], reference=ref["path"]))
                rows.append(dict(res, method=m, repeat=r))
                print(
                    f"  repeat {r} {m:9s} trial {res['trial_s']:6.2f} s  step {res['step_s']:.4f} s  "
                    f"load {res['load1']:.1f}",
                    flush=True,
                )

    df = pd.DataFrame(rows)
    bad = df[df["status"] != "ok"]
    if len(bad):
        print(
            f"WARNING: {len(bad)} trial(s) not ok: {bad[['method', 'repeat', 'status']].to_dict('records')}"
        )
    cols = [
        "steps",
        "step_s",
        "step_cpu_s",
        "train_loop_s",
        "trial_s",
        "trial_cpu_s",
        "process_s",
        "peak_rss_mb",
        "model_loads",
    ]
    table = df.groupby("method", sort=False)[cols].median()
    table["ref_model_in_trial"] = df.groupby("method", sort=False)["ref_model"].any()
    print("\nmedians over repeats (fresh process per trial):")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if "simpo" in table.index:
        simpo = table.loc["simpo"]
        print("\ntrial-cost ratios vs SimPO (target <= 1.05 with the shared cache):")
        for m in (x for x in methods if x != "simpo"):
            t = table.loc[m]
            print(
                f"  {m:9s}/simpo  trial {t['trial_s'] / simpo['trial_s']:.3f}  "
                f"step {t['step_s'] / simpo['step_s']:.3f}  step CPU {t['step_cpu_s'] / simpo['step_cpu_s']:.3f}  "
                f"train loop {t['train_loop_s'] / simpo['train_loop_s']:.3f}"
            )
    print(
        f"load average (1 min) during trials: min {df['load1'].min():.1f}  median {df['load1'].median():.1f}  "
        f"max {df['load1'].max():.1f}  (now {os.getloadavg()})"
    )


if __name__ == "__main__":
    main()
