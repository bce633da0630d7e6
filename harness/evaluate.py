"""The evaluation stage: sample -> judge -> KL -> metrics, and the cached SFT baseline.

For one trained policy on the study's eval prompts (docs/evaluation.md, "Metrics"):

1. :func:`harness.generate.generate` samples ``generation.samples_per_prompt`` responses per
   prompt and returns the policy's temperature-1 log-prob of every sampled token (from the
   generation pass itself);
2. the judge scores the responses (and, when it offers one, splits each score into its
   components: ``judge_<component>`` columns after the contract's, see
   :func:`harness.judges.registry.judge_columns`);
3. one teacher-forced, batched forward pass of each model (policy and SFT) over exactly the same
   token ids (prompt + response) gives the exact per-response KL and ``log pi_sft(y_t)``
   (:mod:`harness.kl`); ``kl_sample = sum_t log pi_theta(y_t) - log pi_sft(y_t)``;
4. :mod:`harness.metrics` turns the rows into the per-model metrics.

The SFT baseline (the SFT model's replies, their scores and the chosen replies' scores) is
computed once per study by :func:`build_baseline`, cached by content hash and sealed with a
checksum: a cache whose bytes changed is rebuilt with a warning naming it.

CLI::

    python -m harness.evaluate --model DIR --artifacts DIR [--out FILE] [--seed N]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.generate import (
    GenerationConfig,
    chat_messages,
    generate,
    load_policy,
    pad_token_id,
)
from harness.kl import response_kl
from harness.io import hash_dir, hash_json, require_sealed, verify_file, write_parquet_atomic
from harness.metrics import model_metrics, sample_table
from harness.judges.registry import judge_columns
from harness.schema import BASELINE_TRIAL_ID, MODEL_METRICS, SAMPLE_COLUMNS, judge_breakdown_columns

log = logging.getLogger(__name__)

# How often build_baseline computed (miss) or reused (hit) a baseline in this process.
BASELINE_STATS = {"built": 0, "hits": 0}


@dataclass
class EvalResult:
    samples: pd.DataFrame  # SAMPLE_COLUMNS (+ judge_<component>), one row per (prompt, sample)
    metrics: dict[str, float]  # MODEL_METRICS
    timings: dict[str, float]  # time_generate_s, time_judge_s, time_kl_s
    details: pd.DataFrame  # prompt_id, sample_index, logp, sft_logp: kl_sample's two terms


# ----------------------------------------------------------------------------- inputs and keys


def eval_prompts(eval_df: pd.DataFrame) -> list[list[dict]]:
    """The ``prompt`` column as lists of ``{"role", "content"}`` dicts (parquet gives arrays)."""
    for col in ("prompt_id", "prompt", "chosen"):
        if col not in eval_df.columns:
            raise ValueError(f"eval prompts lack column {col!r} (have {list(eval_df.columns)})")
    return [chat_messages(i, p) for i, p in enumerate(eval_df["prompt"])]


def eval_data_key(eval_df: pd.DataFrame) -> str:
    """Content hash of the eval prompts (ids, prompts, chosen replies)."""
    rows = [
        [str(i), p, str(c)]
        for i, p, c in zip(eval_df["prompt_id"], eval_prompts(eval_df), eval_df["chosen"])
    ]
    return hash_json(rows)


def model_key(model: Any) -> str:
    """Content hash of a model: of its folder (a path, or ``name_or_path`` when that is a
    folder), else of its weights."""
    path = model if isinstance(model, (str, Path)) else getattr(model, "name_or_path", "")
    if path and Path(path).is_dir():
        return "dir:" + hash_dir(path)
    if isinstance(model, (str, Path)):
        return "id:" + str(model)
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return "weights:" + h.hexdigest()[:16]


def baseline_key(sft_key: str, eval_key: str, judge_spec: Mapping, generation_cfg) -> str:
    """Cache key of a baseline: SFT model, eval data, judge spec and generation settings."""
    return hash_json(
        {
            "sft": sft_key,
            "eval": eval_key,
            "judge": dict(judge_spec),
            "generation": GenerationConfig.from_any(generation_cfg).model_dump(),
        }
    )


# ----------------------------------------------------------------------------- baseline


def _read_cached(cache_path: Path, key: str) -> pd.DataFrame | None:
    if not cache_path.exists():
        return None
    problem = verify_file(cache_path)
    if problem:
        log.warning("SFT baseline cache %s %s: building it again", cache_path, problem)
        return None
    try:
        df = pd.read_parquet(cache_path)
    except Exception:  # an unreadable cache is a miss; it is rewritten atomically below
        return None
    extra = list(df.columns)[len(SAMPLE_COLUMNS):]
    if (df.attrs.get("baseline_key") != key or list(df.columns)[: len(SAMPLE_COLUMNS)]
            != list(SAMPLE_COLUMNS) or extra != judge_breakdown_columns(extra)):
        return None
    return df


def build_baseline(
    sft_model,
    tokenizer,
    eval_df: pd.DataFrame,
    judge,
    generation_cfg,
    cache_path: str | Path,
    *,
    judge_spec: Mapping | None = None,
    sft_key: str | None = None,
    trust_remote_code: bool = False,
) -> pd.DataFrame:
    """The SFT model's rows in the samples schema (``trial_id == "sft"``), cached.

    ``samples_per_prompt`` rows per prompt: ``score`` is the gold score of that SFT reply,
    ``chosen_score`` that of the dataset's chosen reply, ``sft_score`` the prompt's mean SFT
    score (over its samples), ``kl == kl_sample == kl_per_token == 0``. The SFT model samples
    with ``generation.seed`` (0 under ``per_replicate``: :meth:`GenerationConfig.sampling_seed`).
    The parquet at ``cache_path`` is reused when its key (:func:`baseline_key`) matches, else
    rebuilt and written atomically.

    ``sft_model``: a model or a folder (loaded only on a miss, with its tokenizer when
    ``tokenizer`` is None). ``judge``: a judge mapping (``{"name": "toy"}``, built only on a
    miss) or a judge object, which then needs ``judge_spec`` for the key. ``sft_key`` overrides
    :func:`model_key` (e.g. a hash the prepare stage already has). The returned frame's
    ``attrs`` hold ``baseline_key`` and ``cache_hit``. ``trust_remote_code`` is passed to the
    model's loaders.
    """
    if isinstance(judge, Mapping):
        judge_spec = dict(judge)
    elif judge_spec is None:
        raise TypeError(
            "build_baseline: pass judge as its spec mapping ({'name': ...}) or give judge_spec= "
            "for the cache key"
        )
    cfg = GenerationConfig.from_any(generation_cfg)
    cache_path = Path(cache_path)
    key = baseline_key(sft_key or model_key(sft_model), eval_data_key(eval_df), judge_spec, cfg)
    cached = _read_cached(cache_path, key)
    if cached is not None:
        BASELINE_STATS["hits"] += 1
        cached.attrs.update(cache_hit=True)
        return cached

    if isinstance(sft_model, (str, Path)):
        sft_model, loaded_tok = load_policy(sft_model, trust_remote_code=trust_remote_code)
        tokenizer = tokenizer or loaded_tok
    if isinstance(judge, Mapping):
        from harness.judges import build_judge

        judge = build_judge(judge)
    prompts = eval_prompts(eval_df)
    chosen = [str(c) for c in eval_df["chosen"]]
    n = cfg.samples_per_prompt
    gens = generate(sft_model, tokenizer, prompts, cfg.for_replicate(None))
    each = [p for p in prompts for _ in range(n)]  # generate's order: prompt-major
    # one judge call for both columns: the judge batches them together
    scores = np.asarray(judge.score(each + prompts, gens.responses + chosen), dtype=np.float64)
    score, chosen_score = scores[: len(each)], scores[len(each) :]
    sft_score = score.reshape(len(prompts), n).mean(axis=1)  # per prompt, over its samples
    zeros = np.zeros(len(each))
    df = sample_table(
        BASELINE_TRIAL_ID, np.repeat(eval_df["prompt_id"].astype(str).to_numpy(), n),
        gens.responses, gens.lengths, score, zeros, np.repeat(chosen_score, n),
        np.repeat(sft_score, n), kl_sample=zeros, finished=gens.finished,
        sample_index=np.tile(np.arange(n), len(prompts)),
    ).assign(**judge_columns(judge, each, gens.responses))
    df.attrs = {"baseline_key": key}
    write_parquet_atomic(cache_path, df, seal=True)
    BASELINE_STATS["built"] += 1
    df.attrs["cache_hit"] = False
    return df


def _align_baseline(eval_df: pd.DataFrame, baseline_df: pd.DataFrame) -> pd.DataFrame:
    base = baseline_df.drop_duplicates("prompt_id").set_index("prompt_id")
    ids = eval_df["prompt_id"].astype(str)
    missing = [i for i in ids if i not in base.index]
    if missing:
        raise ValueError(
            f"the SFT baseline has no row for {len(missing)} eval prompt(s), e.g. {missing[:5]}: "
            "it was built for other eval data; rebuild it (build_baseline)"
        )
    return base.loc[ids.tolist()]


# ----------------------------------------------------------------------------- one policy


def evaluate_policy(
    policy_model,
    tokenizer,
    sft_model,
    eval_df: pd.DataFrame,
    baseline_df: pd.DataFrame,
    judge,
    generation_cfg,
    trial_id: str,
) -> EvalResult:
    """Sample, judge and measure ``policy_model`` on ``eval_df`` against the SFT baseline.

    ``generation_cfg.samples_per_prompt`` rows per prompt (``sample_index``); its ``seed`` must
    be the trial's integer sampling seed. Every sample keeps its row: an empty reply (the stop
    token alone, length 1) is scored like any other. ``kl`` is the exact KL and ``kl_sample``
    the sampled-token estimate (:mod:`harness.kl`): the policy's log-probs from generation, the
    SFT model's from its one batched forward pass over the same ids (the tokenizer must be the
    SFT model's); ``time_kl_s`` covers both teacher-forced passes.
    """
    cfg = GenerationConfig.from_any(generation_cfg)
    prompts = eval_prompts(eval_df)
    base = _align_baseline(eval_df, baseline_df)
    n = cfg.samples_per_prompt

    t0 = time.perf_counter()
    gens = generate(policy_model, tokenizer, prompts, cfg)
    t1 = time.perf_counter()
    each = [p for p in prompts for _ in range(n)]  # generate's order: prompt-major
    score = np.asarray(judge.score(each, gens.responses), dtype=np.float64)
    breakdown = judge_columns(judge, each, gens.responses)
    t2 = time.perf_counter()
    kl = response_kl(policy_model, sft_model, gens.prompt_ids, gens.response_ids,
                     cfg.batch_size, pad_token_id(tokenizer))
    t3 = time.perf_counter()

    logp = gens.logp_sums
    sft_sum = kl.sft_logp_sums
    prompt_id = np.repeat(eval_df["prompt_id"].astype(str).to_numpy(), n)
    sample_index = np.tile(np.arange(n), len(prompts))
    samples = sample_table(
        trial_id, prompt_id, gens.responses, gens.lengths, score, kl.kl,
        np.repeat(base["chosen_score"].to_numpy(), n), np.repeat(base["sft_score"].to_numpy(), n),
        kl_sample=logp - sft_sum, finished=gens.finished, sample_index=sample_index,
    ).assign(**breakdown)
    details = pd.DataFrame({"prompt_id": prompt_id, "sample_index": sample_index, "logp": logp,
                            "sft_logp": sft_sum})
    return EvalResult(
        samples=samples,
        metrics=model_metrics(samples, logp=logp),
        timings={"time_generate_s": t1 - t0, "time_judge_s": t2 - t1, "time_kl_s": t3 - t2},
        details=details,
    )


# ----------------------------------------------------------------------------- CLI


def metrics_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    df = pd.DataFrame.from_dict(dict(rows), orient="index")[list(MODEL_METRICS)]
    return df.to_string(float_format=lambda v: f"{v:.4f}")


def main(argv: list[str] | None = None) -> int:
    """The CLI; errors a user can cause are one ``error:`` line, exit 2 (:mod:`harness.cli`)."""
    from harness.cli import run

    return run(_main, argv)


def _main(argv: list[str]) -> int:
    from harness.artifacts import PreparedStudy
    from harness.judges import build_judge

    ap = argparse.ArgumentParser(
        prog="python -m harness.evaluate",
        description="Evaluate a model folder against a prepared study's eval prompts.",
    )
    ap.add_argument("--model", required=True, help="model folder (or cached Hub id) to evaluate")
    ap.add_argument("--artifacts", required=True,
                    help="prepared study folder (prepared.json): artifacts/studies/<study> or "
                         "results/<study>")
    ap.add_argument("--out", help="write the samples here (parquet)")
    ap.add_argument("--seed", type=int,
                    help="sampling seed (default: the study's generation.seed; 0 under "
                         "per_replicate)")
    ap.add_argument("--trial-id", help="trial_id of the rows (default: the model folder's name)")
    ap.add_argument("--trust-remote-code", action="store_true",
                    help="let transformers run the --model folder's own modelling code")
    ap.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")
    args = ap.parse_args(argv)

    study = PreparedStudy.load(args.artifacts)
    eval_df = pd.read_parquet(require_sealed(study.eval_prompts))
    model, tokenizer = load_policy(args.model, trust_remote_code=args.trust_remote_code)
    sft_model, sft_tokenizer = load_policy(study.policy, trust_remote_code=study.trust_remote_code)

    study_cfg = GenerationConfig.from_any(study.generation)
    cfg = (study_cfg.model_copy(update={"seed": args.seed}) if args.seed is not None
           else study_cfg.for_replicate(None))
    if study.baseline and Path(study.baseline).exists():
        baseline = pd.read_parquet(require_sealed(study.baseline))  # as the study prepared it
    else:
        cache = Path(study.baseline or Path(args.artifacts) / "baseline.parquet")
        baseline = build_baseline(
            sft_model, sft_tokenizer, eval_df, dict(study.judge), study_cfg, cache
        )
    judge = build_judge(study.judge)
    trial_id = args.trial_id or Path(str(args.model)).name
    result = evaluate_policy(model, tokenizer, sft_model, eval_df, baseline, judge, cfg, trial_id)

    rows = {f"{BASELINE_TRIAL_ID} (baseline)": model_metrics(baseline), trial_id: result.metrics}
    print(metrics_table(rows))
    print("  ".join(f"{k}={v:.2f}" for k, v in result.timings.items()))
    if args.out:
        write_parquet_atomic(args.out, result.samples)
        print(f"wrote {len(result.samples)} samples to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
