"""One trial: train -> generate -> judge -> metrics -> one results row (+ samples).

:func:`run_trial` never raises for a trial's own failure: an exception anywhere becomes status
``failed`` with its message and traceback; a non-finite loss or gradient becomes ``diverged``
with its step. Either way the caller gets a row for ``trials.parquet``.

What every trial of a study shares (data frames, the reference cache, the SFT model used for
the KL, the judge, the baseline) is loaded once per worker process and reused: with Ray's
``reuse_actors`` one worker runs many trials, so a trial pays only for its own work.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import traceback
from pathlib import Path

import pandas as pd

from harness.artifacts import PreparedStudy
from harness.schema import STATUS_FAILED, STATUS_OK

log = logging.getLogger(__name__)

# Test hook: trial ids listed here raise inside the trial (exercises the `failed` path).
FAIL_ENV = "PO_HARNESS_FAIL_TRIALS"


@functools.lru_cache(maxsize=8)
def _frame(path: str) -> pd.DataFrame:
    from harness.io import require_sealed

    return pd.read_parquet(require_sealed(path))  # a damaged table fails the trial, named


@functools.lru_cache(maxsize=2)
def _reference(path: str) -> dict:
    from harness.reference import load_reference

    return load_reference(path)


@functools.lru_cache(maxsize=2)
def _sft(path: str, dtype: str, trust_remote_code: bool = False):
    from harness.models import load_causal_lm, load_tokenizer

    return (load_causal_lm(path, dtype=dtype, trust_remote_code=trust_remote_code),
            load_tokenizer(path, trust_remote_code=trust_remote_code))


@functools.lru_cache(maxsize=2)
def _judge(spec_items: tuple):
    from harness.judges import build_judge

    return build_judge(dict(spec_items))


def _judge_for(spec: dict):
    return _judge(tuple(sorted(spec.items())))


def run_trial(spec: dict, prepared: PreparedStudy, training, dtype: str, out_dir: str | Path,
              outputs: dict | None = None) -> tuple[dict, pd.DataFrame | None]:
    """Run the trial ``spec`` (a ``TrialSpec.to_dict()``); return (row, samples or None).
    ``outputs``: the study's tracking and policy-keeping settings
    (:func:`harness.outputs.study_outputs`), None for neither."""
    from harness.objectives import get_objective

    t0 = time.perf_counter()
    row: dict = {**spec, "status": STATUS_OK, "error": None}
    samples = None
    try:
        if spec["trial_id"] in os.environ.get(FAIL_ENV, "").split(","):
            raise RuntimeError(f"forced failure of trial {spec['trial_id']} ({FAIL_ENV})")
        row, samples = _run(spec, prepared, training, dtype, Path(out_dir), row,
                            get_objective(spec["method"]), outputs)
    except Exception as e:  # a trial's failure is a result, not a crash of the sweep
        log.error("trial %s failed: %s", spec["trial_id"], e)
        row.update(status=STATUS_FAILED, error=f"{type(e).__name__}: {e}",
                   traceback=traceback.format_exc())
        samples = None
    row["time_total_s"] = time.perf_counter() - t0
    return row, samples


def train_arguments(spec: dict, prepared: PreparedStudy, training, dtype: str, out_dir: Path,
                    objective) -> dict:
    """Keyword arguments of :func:`harness.train.train_policy` for the trial ``spec`` (shared by
    the one-process trial and every worker of a distributed one, :mod:`harness.distributed`)."""
    from harness.grid import TrialSpec

    trial = TrialSpec.from_dict(spec)
    reference = _reference(prepared.reference_logps) if objective.needs_reference else None
    return dict(
        method=trial.method,
        hparams=trial.hyperparameters(),
        seed=trial.seed,
        training=training,
        policy_path=prepared.policy,
        train_pairs=_frame(prepared.train_pairs),
        heldout_pairs=_frame(prepared.heldout_pairs),
        reference=reference,
        output_dir=out_dir,
        dtype=dtype,
        trust_remote_code=prepared.trust_remote_code,
    )


def trial_generation(spec: dict, prepared: PreparedStudy):
    """The study's generation settings with the trial's sampling seed (``generation_seed``;
    a spec without one, from an older harness, gets the study's rule for its training seed)."""
    from harness.generate import GenerationConfig

    cfg = GenerationConfig.from_any(prepared.generation)
    seed = spec.get("generation_seed")
    return cfg.for_replicate(spec["seed"]) if seed is None else cfg.model_copy(
        update={"seed": int(seed)})


def evaluate_trained(row: dict, model, spec: dict, prepared: PreparedStudy, dtype: str):
    """Generate, judge and measure the trained ``model``; returns (row updated, samples)."""
    from harness.evaluate import evaluate_policy
    from harness.models import peak_memory_mb

    sft_model, tokenizer = _sft(prepared.policy, dtype, prepared.trust_remote_code)
    ev = evaluate_policy(
        model, tokenizer, sft_model, _frame(prepared.eval_prompts),
        _frame(prepared.baseline), _judge_for(prepared.judge), trial_generation(spec, prepared),
        spec["trial_id"],
    )
    row.update(ev.metrics)
    row.update(ev.timings)
    row["peak_rss_mb"] = peak_memory_mb()
    return row, ev.samples


def _run(spec, prepared, training, dtype, out_dir, row, objective, outputs=None):
    from harness.outputs import TrialOutputs
    from harness.train import train_policy

    extra = TrialOutputs(outputs, spec)  # tracking run + kept policy (issue 12 hook)
    result = train_policy(**train_arguments(spec, prepared, training, dtype, out_dir, objective),
                          **extra.train_kwargs())
    row.update(status=result.status, error=result.error, **result.metrics, **result.timings)
    if result.model is None:
        extra.finish(row, None, None)
        return row, None
    row, samples = evaluate_trained(row, result.model, spec, prepared, dtype)
    extra.finish(row, result.model, _sft(prepared.policy, dtype, prepared.trust_remote_code)[1])
    return row, samples
