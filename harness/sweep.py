"""``python -m harness.sweep STUDY.yaml [KEY=VALUE ...] [options]``: run a study's whole grid.

    python -m harness.sweep sweeps/quickstart.yaml --dry-run         the plan and a cost estimate
    python -m harness.sweep sweeps/quickstart.yaml                   run (or finish) the study
    python -m harness.sweep sweeps/quickstart.yaml grid.seed=[0,1]   override YAML keys
    python -m harness.sweep sweeps/quickstart.yaml --print-config    the resolved study as YAML
    python -m harness.sweep sweeps/quickstart.yaml --confirm 2       best and top-25% configs
                                                                     again on 2 fresh seeds

Overrides: ``KEY=VALUE`` after the study, or ``--set KEY=VALUE`` (the same thing); the key is a
dotted path into the YAML (``training.batch_size=8``, ``grid.learning_rate=[1e-4,3e-4]``,
``grid.seed[0]=3``), the value is YAML. They apply in order, bare ones first, then ``--set``
ones, then ``--results``: a later one wins.

What a run does: validate the YAML and expand the grid into trials with stable ids; take the
study's lock (one sweep per results folder at a time); read back the recorded trials (a trial
whose intact row is on disk is done; a damaged one runs again; rows of other settings or no
longer in the grid are kept aside, ``--prune`` deletes them); prepare the shared artifacts once
(data, SFT model, reference log-probs, SFT baseline; cached by content hash); run every missing
trial on Ray Tune (locally, or on a cluster with ``--address``) with a live progress line and
one line per finished trial; write ``results/<study>/`` (study.json, trials.parquet,
samples.parquet, baseline.parquet), print a summary and the command that writes the report.
``--confirm K`` (once the grid is recorded) adds each method's best and top-25% configs, re-run
on K fresh training seeds, as confirmation trials: the report then estimates the selected
configs from them rather than from the grid runs that selected them.

Re-running is resuming: after a crash, a kill or Ctrl-C, the same command runs only the missing
trials. Ctrl-C or SIGTERM stops the running trials, records none of them and exits 130 / 143;
an error you can cause is one ``error:`` line and exit 2 (``-v`` adds the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from harness.errors import UserError
from harness.schema import STUDY_HASH, describe_excluded

log = logging.getLogger(__name__)


def interleave_methods(specs):
    """Round-robin over methods (dpo, ln_dpo, simpo, dpo, ...), each method's own order kept:
    every method gets early results in the progress view, and the one-time warm-up of each
    worker process (imports, first model load) does not land on one method's trials.
    Linear in the number of trials."""
    by_method: dict[str, list] = {}
    for s in specs:
        by_method.setdefault(s.method, []).append(s)
    out, queues = [], [iter(q) for q in by_method.values()]
    while queues:
        alive = []
        for q in queues:
            spec = next(q, None)
            if spec is not None:
                out.append(spec)
                alive.append(q)
        queues = alive
    return out


class SweepError(UserError, RuntimeError):
    """A study cannot run as configured (e.g. resources the cluster does not have)."""


# ----------------------------------------------------------------------------- the Tune trial


def gpu_hours(seconds, resources: dict) -> float | None:
    """Trial wall seconds x GPUs held (``gpus_per_trial x workers_per_trial``) / 3600: 0.0 for
    a CPU trial; None when the time is unknown."""
    if not isinstance(seconds, (int, float)):
        return None
    gpus = float(resources.get("gpus_per_trial", 0)) * int(resources.get("workers_per_trial", 1))
    return float(seconds) * gpus / 3600.0


def po_trial(config: dict, ctx: dict) -> None:
    """The Tune trainable: one trial, its rows written to disk, its metrics reported."""
    import ray
    from ray import tune

    from harness.config.sections import TrainingConfig
    from harness.distributed import run_trial_on
    from harness.results import is_done, trial_dir, write_trial

    spec = config["trial"]
    results = Path(ctx["results"])
    node = {"node_id": ray.get_runtime_context().get_node_id()}
    if is_done(results, spec["trial_id"]):  # re-entered after a restore: already recorded
        tune.report({"status": "recorded", **node})
        return
    import torch

    torch.set_num_threads(max(1, int(ctx["cpus_per_trial"])))
    # In this process, or on a Ray Train TorchTrainer when resources.workers_per_trial > 1.
    # The manifest's contents, not a path to re-read: another sweep of the same study name
    # preparing other data meanwhile cannot change what this trial reads.
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
    row[STUDY_HASH] = ctx["study_hash"]
    row["gpu_hours"] = gpu_hours(row.get("time_total_s"), ctx["resources"])
    write_trial(results, row, samples)
    report = {"status": row["status"], "method": spec["method"], **node}
    for k in ("mean_score", "win_vs_sft", "mean_kl", "time_total_s"):
        v = row.get(k)
        if isinstance(v, (int, float)):
            report[k] = v
    if row.get("error"):  # the progress view's line for this trial names why
        report["error"] = str(row["error"]).strip().splitlines()[0][:300]
    tune.report(report)


# ----------------------------------------------------------------------------- Ray


def ray_tmp_root() -> Path:
    return Path(os.environ.get("PO_HARNESS_RAY_TMP", "/tmp"))


def _private_dir(root: Path, prefix: str) -> str:
    """``<root>/<prefix><n>``, the first n free: shorter than mkdtemp's 8 random characters
    (Ray's socket paths under it must stay < 107 bytes)."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        path = root / f"{prefix}{n}"
        try:
            path.mkdir(mode=0o700)
            return str(path)
        except FileExistsError:
            continue
    return tempfile.mkdtemp(prefix=prefix, dir=root)


def _ray_init(address: str | None, num_cpus: int | None):
    """Start a local Ray (returns its temp dir, removed at shutdown) or join ``address``."""
    import ray

    from harness.cleanup import RAY_TMP_PREFIX
    from harness.interrupt import sigint_ignored

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
    # Ray's socket paths must stay < 107 characters: a short, private temp dir, named with this
    # process's pid so a later run can remove it if this one is killed (harness.cleanup).
    tmp = _private_dir(ray_tmp_root(), f"{RAY_TMP_PREFIX}{os.getpid()}-")
    # Ray's processes inherit an ignored SIGINT: a Ctrl-C in the terminal reaches the whole
    # process group, and must stop the sweep (through the driver), not kill Ray under it.
    with sigint_ignored():
        ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, _temp_dir=tmp,
                 log_to_driver=False, configure_logging=False)
    return tmp, True


@contextlib.contextmanager
def ray_session(address: str | None):
    """Ray for the length of a sweep: joined at ``address``, or started locally (and stopped,
    its temp dir removed, on exit). Yields the cluster's resources."""
    import ray

    tmp, started = None, False
    try:
        tmp, started = _ray_init(address, None)
        yield ray.cluster_resources()
    finally:
        if started or ray.is_initialized():
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


def run_tune(study, pending, prepared, cluster: dict, *, max_concurrent=None,
             progress_console=None) -> dict:
    """Run ``pending`` TrialSpecs on Ray Tune (inside :func:`ray_session`); ``prepared`` is the
    study's :class:`~harness.artifacts.PreparedStudy`; the live view goes to
    ``progress_console`` (a rich Console; default stdout). Returns facts of the run: wall time,
    concurrency, trials, and ``interrupted`` (the signal's name, or None)."""
    from ray import tune
    from ray.tune.logger import JsonLoggerCallback

    from harness import interrupt
    from harness.distributed import trial_resources
    from harness.plugins import plugin_sources
    from harness.outputs import study_outputs
    from harness.progress import Progress

    results = study.results_path
    concurrency = _max_concurrent(study, cluster, max_concurrent)
    r = study.resources
    ctx = {
        "results": str(results),
        "prepared": prepared.to_dict(),
        "study_hash": study.hash(),
        "training": study.training.model_dump(mode="json"),
        "dtype": study.policy.dtype,
        "cpus_per_trial": r.cpus_per_trial,
        "resources": r.model_dump(),
        # The study's plugin modules, imported by the trial process before it needs a registry.
        "plugins": plugin_sources(study.plugins),
        "outputs": study_outputs(study),
    }
    trainable = tune.with_resources(tune.with_parameters(po_trial, ctx=ctx),
                                    trial_resources(r))
    from harness.cost import trial_seconds

    progress = Progress(pending, trial_seconds(study), concurrency, console=progress_console)
    tuner = tune.Tuner(
        trainable,
        param_space={"trial": tune.grid_search([s.to_dict() for s in pending])},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrency,
                                    reuse_actors=study.ray.reuse_actors),
        run_config=tune.RunConfig(
            name=f"run-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str((results / "tune").resolve()),  # must be absolute
            failure_config=tune.FailureConfig(max_failures=0),
            stop=interrupt.StopOnSignal(),
            verbose=0,
            callbacks=[progress, JsonLoggerCallback()],
        ),
    )
    t0 = time.perf_counter()
    progress.start()
    try:
        with interrupt.stop_tune_on_signals():
            grid = tuner.fit()  # does not raise when trials error, nor on Ctrl-C: checked below
    finally:
        progress.close()
    wall = time.perf_counter() - t0
    signum = interrupt.received()
    unfinished = _record_errors(results, pending, grid, study.hash(), interrupted=signum is not None)
    return {"wall_s": wall, "concurrency": concurrency, "n_trials": len(pending),
            "unfinished": unfinished,
            "interrupted": signal.Signals(signum).name if signum is not None else None}


def _infrastructure_error(error: BaseException) -> bool:
    """The trial's process or node died (Ray's errors for that), rather than the trial raising."""
    from ray import exceptions as rex

    kinds = tuple(getattr(rex, n) for n in ("RayActorError", "WorkerCrashedError", "NodeDiedError",
                                             "LocalRayletDiedError", "TaskCancelledError")
                  if hasattr(rex, n))
    seen = error
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _record_errors(results: Path, pending, grid, study_hash: str, interrupted: bool) -> int:
    """A trial Tune reports as errored (it died outside run_trial's own handling: worker killed,
    out of memory) gets a ``failed`` row with Tune's error, so it is not silently missing. A trial
    that ended without a result for any other reason (the sweep was interrupted) stays
    unrecorded, and so does one whose worker died while the sweep was being interrupted: a
    re-run runs them. Returns how many trials are left unrecorded."""
    from harness.results import is_done, write_trial
    from harness.schema import STATUS_FAILED

    errors = {}
    for res in grid:
        tid = (res.config or {}).get("trial", {}).get("trial_id")
        if tid and res.error is not None:
            errors[tid] = res.error
    unfinished = 0
    for spec in pending:
        if is_done(results, spec.trial_id):
            continue
        error = errors.get(spec.trial_id)
        if error is None or (interrupted and _infrastructure_error(error)):
            unfinished += 1
            continue
        write_trial(results, {**spec.to_dict(), "status": STATUS_FAILED, STUDY_HASH: study_hash,
                              "error": f"{type(error).__name__}: {error}"}, None)
    return unfinished


# ----------------------------------------------------------------------------- CLI


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    from harness.cli import plain

    ap = argparse.ArgumentParser(prog="python -m harness.sweep", description=plain(__doc__),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", help="the study YAML (sweeps/<study>.yaml)")
    ap.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                    help="override a YAML key, e.g. training.batch_size=8 (same as --set)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and cost, run nothing")
    ap.add_argument("--print-config", action="store_true",
                    help="print the resolved study (YAML + overrides + defaults) as YAML and stop")
    ap.add_argument("--prepare-only", action="store_true",
                    help="build the shared artifacts (data, SFT, reference, baseline) and stop")
    ap.add_argument("--resume", action="store_true",
                    help="finish the missing trials (re-running does the same; kept for clarity)")
    ap.add_argument("--prune", action="store_true",
                    help="delete the recorded trials that are not part of this study (made under "
                         "other settings or no longer in the grid) and quarantined ones")
    ap.add_argument("--wait", action="store_true",
                    help="if another sweep of this study runs, wait for it instead of exiting")
    ap.add_argument("--address", help="join this Ray cluster (else ray.address / RAY_ADDRESS / local)")
    ap.add_argument("--max-concurrent", type=_at_least_one,
                    help="trials at once, >= 1 (default: what fits)")
    ap.add_argument("--results", help="results folder (overrides results_dir)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a YAML key, e.g. --set training.batch_size=8")
    ap.add_argument("--confirm", type=_at_least_one, metavar="K",
                    help="re-run each method's best and top-25%% configs of the recorded grid on "
                         "K fresh seeds (role confirm; resumable, K may grow later)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log at INFO level; tracebacks on errors")
    return ap


def overrides_of(args) -> list[str]:
    """Every override, in the order they apply: the bare ``KEY=VALUE`` ones, then the ``--set``
    ones, then ``--results`` (as ``results_dir``). A bare word without ``=`` is not an
    override: one error naming it."""
    from harness.config import ConfigError

    for text in args.overrides:
        if "=" not in text:
            raise ConfigError(f"argument {text!r}", [("", "expected KEY=VALUE after the study "
                                                          "(one study per command)")])
    return (list(args.overrides) + list(args.set)
            + ([f"results_dir={args.results}"] if args.results else []))


def print_config(study) -> None:
    """The resolved study (:meth:`harness.config.Study.resolved`) as YAML, keys in the study's
    order."""
    import yaml

    print(yaml.safe_dump(study.resolved(), sort_keys=False, allow_unicode=True), end="")


def main(argv: list[str] | None = None) -> int:
    """The CLI: every error a user can cause is one ``error:`` line, exit 2; Ctrl-C / SIGTERM
    exit 130 / 143 (:mod:`harness.cli`)."""
    from harness.cli import run

    return run(_main, argv)


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def _kept_aside(excluded: dict, damaged: int = 0) -> str:
    text = describe_excluded(excluded)
    parts = [f"kept aside: {text} (--prune removes them)"] if text else []
    if damaged:
        parts.append(f"{damaged} damaged (quarantined, will run again)")
    return "; ".join(parts)


def _main(argv: list[str]) -> int:
    args = _parser().parse_intermixed_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from harness.config import load_study
    from harness.membership import study_trials
    from harness.results import classify, counts, prune, scan, write_study_json

    study = load_study(args.study, overrides_of(args))
    if args.print_config:
        print_config(study)
        return 0
    trial_set = study_trials(study)
    results = study.results_path

    if args.dry_run:
        return _dry_run(study, trial_set, args)

    from harness.io import ensure_writable

    free_art = ensure_writable(study.artifacts_dir)
    if args.prepare_only:
        print(f"study {study.study}: preparing the shared artifacts under {study.artifacts_dir} "
              f"(free: {_gb(free_art)})", flush=True)
        _prepare(study, None, args)
        return 0
    free_res = ensure_writable(results)

    from harness.cleanup import remove_leftovers
    from harness.lock import study_lock

    with study_lock(results, wait=args.wait):
        removed = remove_leftovers(results, study.artifacts_dir, ray_tmp_root())
        found = scan(results)
        kept, excluded = classify(found.rows, trial_set.study_hash, trial_set.ids)
        if args.confirm:
            trial_set = _add_confirmations(study, trial_set, kept, args.confirm)
            kept, excluded = classify(found.rows, trial_set.study_hash, trial_set.ids)
        if args.prune:
            n = prune(results, excluded, trial_set.ids)
            excluded = {k: [] for k in excluded}
            print(f"pruned {n} trial record(s) that are not part of this study", flush=True)
        pending = interleave_methods([s for s in trial_set.specs if s.trial_id not in kept])
        aside = _kept_aside(counts(excluded), len(found.damaged))
        print(f"study {study.study}: {len(trial_set)} trials, {len(trial_set) - len(pending)} "
              f"already recorded, {len(pending)} to run -> {results}"
              + (f"; {aside}" if aside else "")
              + f" (free: {_gb(free_res)} results, {_gb(free_art)} artifacts"
              + (f"; removed {len(removed)} leftover(s) of killed runs" if removed else "") + ")",
              flush=True)
        prepared = None if pending else _recorded_prepared(results, trial_set.study_hash)
        if prepared is not None:  # a finished study: no Ray, no preparation
            return _finish(study, trial_set, prepared, None)
        address = args.address or study.ray.address or os.environ.get("RAY_ADDRESS")
        with contextlib.ExitStack() as stack:
            cluster = None
            if pending:
                # Join or start Ray and check the per-trial request first: a study that cannot
                # run on this cluster fails before hours of preparation, not after.
                cluster = stack.enter_context(ray_session(address))
                check_resources(study.resources, cluster)
            prepared = _prepare(study, results, args)
            write_study_json(results, study, trial_set.specs,
                             {"excluded": counts(excluded), **_last_run(results),
                              **_confirm_block(trial_set)})
            run = None
            if pending:
                run = run_tune(study, pending, prepared, cluster, max_concurrent=args.max_concurrent)
        return _finish(study, trial_set, prepared, run)


def _confirm_plan(study, trial_set, kept: dict, k: int):
    """The confirmation record after ``--confirm k`` (nothing written)."""
    import pandas as pd

    from harness.confirm import ConfirmError, grid_table, plan

    grid_table(trial_set.grid, kept)  # the whole grid recorded, else an error saying so
    prepared = _recorded_prepared(study.results_path, trial_set.study_hash)
    if prepared is None:
        raise ConfirmError("--confirm: the study has no recorded SFT baseline under its current "
                           "settings; run the study first (the same command without --confirm)")
    sft_score = float(pd.read_parquet(prepared.baseline)["score"].mean())
    return plan(study, trial_set.grid, kept, sft_score, k, trial_set.confirm)


def _confirm_block(trial_set) -> dict:
    """study.json's ``confirm`` (seeds, selected configs, trial count), when there are any."""
    return {"confirm": trial_set.confirm.summary()} if trial_set.confirm is not None else {}


def _add_confirmations(study, trial_set, kept: dict, k: int):
    """Select, record (``confirm.json``) and return the trial set with the confirmation runs."""
    from harness.confirm import describe, write_record
    from harness.membership import study_trials

    record = _confirm_plan(study, trial_set, kept, k)
    new = sum(1 for s in record.specs if s.trial_id not in trial_set.ids)
    write_record(study.results_path, record)
    print(describe(record, new), flush=True)
    return study_trials(study, record)


def _dry_run(study, trial_set, args) -> int:
    from harness.cost import plan_table
    from harness.membership import study_trials
    from harness.results import classify, counts, scan

    found = scan(study.results_path, move_damaged=False)
    kept, excluded = classify(found.rows, trial_set.study_hash, trial_set.ids)
    if args.confirm:  # what --confirm would add; nothing is recorded
        trial_set = study_trials(study, _confirm_plan(study, trial_set, kept, args.confirm))
        kept, excluded = classify(found.rows, trial_set.study_hash, trial_set.ids)
    print(plan_table(study, list(trial_set.specs), set(kept)))
    aside = _kept_aside(counts(excluded), len(found.damaged))
    if aside:
        print(aside[0].upper() + aside[1:] + (" [--prune given: a run would delete them]"
                                              if args.prune and describe_excluded(counts(excluded))
                                              else ""))
    return 0


def _prepare(study, results: Path | None, args):
    """Prepare (or reuse) the shared artifacts; keep the manifest in the results folder."""
    from harness.prepare import prepare
    from harness.io import write_json_atomic

    prepared = prepare(study, progress=lambda m: print(m, flush=True))
    if results is not None:
        write_json_atomic(results / "prepared.json", prepared.to_dict())
    return prepared


def _recorded_prepared(results: Path, study_hash: str):
    """The manifest this results folder was last run with, when it is the current study's and
    its baseline is intact; else None (then the study is prepared again)."""
    from harness.artifacts import PreparedStudy
    from harness.io import verify_file

    try:
        prepared = PreparedStudy.load(results / "prepared.json")
    except (OSError, ValueError, TypeError, UserError):
        return None
    if prepared.study_hash != study_hash or not prepared.baseline:
        return None
    if verify_file(prepared.baseline) is not None:
        return None
    return prepared


def _last_run(results: Path) -> dict:
    """The previous ``last_run`` of study.json (kept when this run runs no trial)."""
    try:
        old = json.loads((results / "study.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {"last_run": old["last_run"]} if isinstance(old, dict) and "last_run" in old else {}


def report_command(results: Path) -> str:
    """The command that writes this study's report: the results folder relative to the current
    directory when it is below it (else absolute), quoted for a POSIX shell."""
    import shlex

    path = Path(results).resolve()
    try:
        shown = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    return f"python -m analysis.report {shlex.quote(shown)}"


def _finish(study, trial_set, prepared, run: dict | None) -> int:
    from harness.cli import exit_code
    from harness.results import consolidate, write_study_json
    from harness.summary import summary_table

    results = study.results_path
    trials, _, excluded = consolidate(results, trial_set.study_hash, trial_set.ids,
                                      prepared.baseline)
    extra = {"excluded": excluded, **({"last_run": run} if run else _last_run(results)),
             **_confirm_block(trial_set)}
    write_study_json(results, study, trial_set.specs, extra)
    print(summary_table(trials, prepared.baseline, run, excluded))
    print(f"results: {results}")
    print(f"report:  {report_command(results)}")
    if run and run["unfinished"] and not run.get("interrupted"):
        print(f"warning: {run['unfinished']} trial(s) ended without a result and were not "
              "recorded; re-run the same command to run them", file=sys.stderr)
    if run and run.get("interrupted"):
        print(f"interrupted ({run['interrupted']}): {run['unfinished']} trial(s) stopped before "
              "they finished were not recorded; re-run the same command to run them",
              file=sys.stderr)
        return exit_code(signal.Signals[run["interrupted"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
