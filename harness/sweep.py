"""``python -m harness.sweep STUDY.yaml``: run a study's whole grid on Ray Tune.

    python -m harness.sweep STUDY.yaml [--dry-run] [--prepare-only] [--resume]
        [--address ADDR] [--max-concurrent N] [--results DIR] [--set key.path=value ...]

1. Validate the YAML (:mod:`harness.config`) and expand the grid into trials with stable ids.
2. ``--dry-run``: print the plan and a cost estimate (:mod:`harness.cost`) and stop.
3. Prepare the shared artifacts once (:mod:`harness.prepare`; cached by content hash).
4. Run one Ray Tune trial per trial not yet recorded (:mod:`harness.trial`), locally
   (``ray.init`` here) or on a cluster (``--address``, ``ray.address`` or ``RAY_ADDRESS``).
5. Rewrite ``results/<study>/{trials,samples,baseline}.parquet`` and print a summary.

Re-running is the resume: a trial is done when its row is on disk
(:mod:`harness.results`), so a second run, or a run after the driver was killed, runs only the
missing trials. Each run is its own Tune experiment under ``results/<study>/tune/``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness.results import consolidate, done_ids, write_study_json

log = logging.getLogger(__name__)


def interleave_methods(specs):
    """Round-robin over methods (dpo, ln_dpo, simpo, dpo, ...), each method's own order kept:
    every method gets early results in the progress view, and the one-time warm-up of each
    worker process (imports, first model load) does not land on one method's trials."""
    by_method: dict[str, list] = {}
    for s in specs:
        by_method.setdefault(s.method, []).append(s)
    out, queues = [], list(by_method.values())
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


class SweepError(RuntimeError):
    """A study cannot run as configured (e.g. resources the cluster does not have)."""


# ----------------------------------------------------------------------------- the Tune trial


def po_trial(config: dict, ctx: dict) -> None:
    """The Tune trainable: one trial, its rows written to disk, its metrics reported."""
    from ray import tune

    from harness.config.sections import TrainingConfig
    from harness.distributed import run_trial_on
    from harness.results import is_done, trial_dir, write_trial

    spec = config["trial"]
    results = Path(ctx["results"])
    if is_done(results, spec["trial_id"]):  # re-entered after a restore: already recorded
        tune.report({"status": "recorded"})
        return
    import torch

    torch.set_num_threads(max(1, int(ctx["cpus_per_trial"])))
    # In this process, or on a Ray Train TorchTrainer when resources.workers_per_trial > 1.
    row, samples = run_trial_on(
        ctx["resources"],
        spec,
        ctx["prepared"],
        TrainingConfig.model_validate(ctx["training"]),
        ctx["dtype"],
        trial_dir(results, spec["trial_id"]),
        storage=results / "tune" / "train",
        plugins=ctx["plugins"],
        outputs=ctx.get("outputs"),  # tracking + kept policies (harness.outputs)
    )
    write_trial(results, row, samples)
    report = {"status": row["status"], "method": spec["method"]}
    for k in ("mean_score", "win_vs_sft", "mean_kl", "time_total_s"):
        v = row.get(k)
        if isinstance(v, (int, float)):
            report[k] = v
    tune.report(report)


# ----------------------------------------------------------------------------- Ray


def _ray_init(address: str | None, num_cpus: int | None):
    """Start a local Ray (returns its temp dir, removed at shutdown) or join ``address``."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ["RAY_CHDIR_TO_TRIAL_DIR"] = "0"  # trials write to absolute paths anyway
    # Tune's own output stays out of the sweep's (issue 12): no TensorBoard/CSV logger
    # callbacks (tracking is the trials' own, harness.tracking; run_tune keeps the JSON logger
    # that its ResultGrid reads), so no `tensorboard --logdir` hint at a temporary folder, and
    # the old output flow, silent at verbose=0, instead of the "Configuration for experiment"
    # banner. The live progress line is harness.progress's.
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    if ray.is_initialized():
        return None, False
    if address:
        ray.init(address=address, log_to_driver=False)
        return None, True
    # Ray's socket paths must stay < 107 characters: a short, private temp dir.
    tmp = tempfile.mkdtemp(prefix="rpo-", dir=os.environ.get("PO_HARNESS_RAY_TMP", "/tmp"))
    ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, _temp_dir=tmp,
             log_to_driver=False, configure_logging=False)
    return tmp, True


@contextlib.contextmanager
def ray_session(address: str | None):
    """Ray for the length of a sweep: joined at ``address``, or started locally (and stopped,
    its temp dir removed, on exit). Yields the cluster's resources."""
    import ray

    tmp, started = _ray_init(address, None)
    try:
        yield ray.cluster_resources()
    finally:
        if started:
            ray.shutdown()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def check_resources(resources, cluster: dict) -> None:
    """Fail now, not hang in Tune, when one trial asks for more than the cluster has."""
    need = {
        "CPU": resources.cpus_per_trial * resources.workers_per_trial,
        "GPU": resources.gpus_per_trial * resources.workers_per_trial,
    }
    for kind, amount in need.items():
        have = cluster.get(kind, 0.0)
        if amount > have:
            raise SweepError(
                f"resources: each trial asks for {amount:g} {kind} "
                f"(resources.{kind.lower()}s_per_trial x workers_per_trial) but the Ray cluster "
                f"has {have:g}; lower the request or join a cluster that has them (--address)"
            )


def _max_concurrent(study, cluster: dict, override: int | None) -> int:
    if override:
        return override
    if study.ray.max_concurrent:
        return study.ray.max_concurrent
    r = study.resources
    per_cpu = int(cluster.get("CPU", 1) // max(r.cpus_per_trial * r.workers_per_trial, 1e-9))
    if r.gpus_per_trial > 0:
        per_gpu = int(cluster.get("GPU", 0) // (r.gpus_per_trial * r.workers_per_trial))
        return max(1, min(per_cpu, per_gpu))
    return max(1, per_cpu)


def run_tune(study, pending, prepared_file: Path, cluster: dict, *, max_concurrent=None,
             progress_stream=None) -> dict:
    """Run ``pending`` TrialSpecs on Ray Tune (inside :func:`ray_session`); returns timing facts
    of the run."""
    from ray import tune
    from ray.tune.logger import JsonLoggerCallback

    from harness.plugins import plugin_sources
    from harness.outputs import study_outputs
    from harness.progress import Progress

    results = study.results_path
    concurrency = _max_concurrent(study, cluster, max_concurrent)
    r = study.resources
    ctx = {
        "results": str(results),
        "prepared": str(prepared_file),
        "training": study.training.model_dump(mode="json"),
        "dtype": study.policy.dtype,
        "cpus_per_trial": r.cpus_per_trial,
        "resources": r.model_dump(),
        # The study's plugin modules, imported by the trial process before it needs a registry.
        "plugins": plugin_sources(study.plugins),
        "outputs": study_outputs(study),
    }
    from harness.distributed import trial_resources

    trainable = tune.with_resources(tune.with_parameters(po_trial, ctx=ctx),
                                    trial_resources(r))
    progress = Progress(pending, results, stream=progress_stream)
    tuner = tune.Tuner(
        trainable,
        param_space={"trial": tune.grid_search([s.to_dict() for s in pending])},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrency,
                                    reuse_actors=study.ray.reuse_actors),
        run_config=tune.RunConfig(
            name=f"run-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str((results / "tune").resolve()),  # must be absolute
            failure_config=tune.FailureConfig(max_failures=0),
            verbose=0,
            callbacks=[progress, JsonLoggerCallback()],
        ),
    )
    t0 = time.perf_counter()
    grid = tuner.fit()  # does not raise when trials error: checked below
    wall = time.perf_counter() - t0
    progress.close()
    _record_crashed(results, pending, grid)
    return {"wall_s": wall, "concurrency": concurrency, "n_trials": len(pending)}


def _record_crashed(results: Path, pending, grid) -> None:
    """A trial that died outside run_trial's own handling (worker killed, out of memory) still
    gets a ``failed`` row with Tune's error, so no trial is silently missing."""
    from harness.results import is_done, write_trial
    from harness.schema import STATUS_FAILED

    errors = {}
    for res in grid:
        tid = (res.config or {}).get("trial", {}).get("trial_id")
        if tid and res.error is not None:
            errors[tid] = f"{type(res.error).__name__}: {res.error}"
    for spec in pending:
        if not is_done(results, spec.trial_id):
            msg = errors.get(spec.trial_id, "the trial ended without recording a result")
            write_trial(results, {**spec.to_dict(), "status": STATUS_FAILED, "error": msg}, None)


# ----------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m harness.sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", help="the study YAML (sweeps/<study>.yaml)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and cost, run nothing")
    ap.add_argument("--prepare-only", action="store_true",
                    help="build the shared artifacts (data, SFT, reference, baseline) and stop")
    ap.add_argument("--resume", action="store_true",
                    help="finish the missing trials (re-running does the same; kept for clarity)")
    ap.add_argument("--address", help="join this Ray cluster (else ray.address / RAY_ADDRESS / local)")
    ap.add_argument("--max-concurrent", type=int, help="trials at once (default: what fits)")
    ap.add_argument("--results", help="results folder (overrides results_dir)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a YAML key, e.g. --set training.batch_size=8")
    ap.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from harness.config import ConfigError, load_study
    from harness.cost import plan_table
    from harness.grid import expand

    overrides = list(args.set) + ([f"results_dir={args.results}"] if args.results else [])
    try:
        study = load_study(args.study, overrides)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    specs = expand(study)
    results = study.results_path
    done = done_ids(results)
    pending = interleave_methods([s for s in specs if s.trial_id not in done])

    if args.dry_run:
        print(plan_table(study, specs, done))
        return 0

    print(f"study {study.study}: {len(specs)} trials, {len(specs) - len(pending)} already "
          f"recorded, {len(pending)} to run -> {results}", flush=True)
    address = args.address or study.ray.address or os.environ.get("RAY_ADDRESS")
    with contextlib.ExitStack() as stack:
        cluster = None
        if pending and not args.prepare_only:
            # Join or start Ray and check the per-trial request first: a study that cannot run
            # on this cluster fails before hours of preparation, not after.
            cluster = stack.enter_context(ray_session(address))
            try:
                check_resources(study.resources, cluster)
            except SweepError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
        return _prepare_and_run(study, specs, pending, cluster, args)


def _prepare_and_run(study, specs, pending, cluster, args) -> int:
    from harness.hub import MissingHubArtifactError
    from harness.prepare import prepare

    results = study.results_path
    try:
        prepared = prepare(study, progress=lambda m: print(m, flush=True))
    except MissingHubArtifactError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.prepare_only:
        return 0
    from harness.artifacts import MANIFEST, study_folder

    results.mkdir(parents=True, exist_ok=True)
    write_study_json(results, study, specs)
    run = None
    if pending:
        run = run_tune(study, pending, study_folder(study.artifacts_dir, study.study) / MANIFEST,
                       cluster, max_concurrent=args.max_concurrent)
    trials, _ = consolidate(results, prepared.baseline)
    write_study_json(results, study, specs, {"last_run": run} if run else None)
    from harness.summary import summary_table

    print(summary_table(trials, prepared.baseline, run))
    print(f"results: {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
