"""Column contracts shared by the harness stages and the analysis package.

These names are the same words as the YAML keys and the Python arguments. Analysis reads only
the tables described here (and ``study.json``).

Data tables (what every data adapter and the toy world produce):

- train pairs: ``pair_id`` (str), ``prompt`` (list of chat messages ``{"role", "content"}``,
  the last one a user turn), ``chosen`` (str), ``rejected`` (str).
- eval prompts: ``prompt_id`` (str), ``prompt`` (messages, as above), ``chosen`` (str: the
  dataset's preferred reply, for win-vs-chosen) and optionally ``rejected`` (str).

Results tables (``results/<study>/``):

- ``trials.parquet``: one row per trial: the columns ``TRIAL_BASE_COLUMNS`` (every study), then
  one column per hyperparameter axis of the study's methods (their union, NaN where a method
  lacks an axis; ``study.json``'s ``methods`` block lists each method's axes), then extras.
- ``samples.parquet``: one row per (trial, eval prompt, sample), columns ``SAMPLE_COLUMNS``
  (``generation.samples_per_prompt`` samples per prompt, ``sample_index`` 0..n-1), then the
  optional judge breakdown ``judge_<component>`` (``JUDGE_COLUMN_PREFIX``), written when the
  study's judge offers one: the score's components, summing to ``score`` row by row.
- ``baseline.parquet``: the SFT model's rows in the samples schema, ``trial_id == "sft"``.
"""

from __future__ import annotations

TRAIN_COLUMNS = ("pair_id", "prompt", "chosen", "rejected")
EVAL_COLUMNS = ("prompt_id", "prompt", "chosen")
EVAL_OPTIONAL_COLUMNS = ("rejected",)

# Who a trial is: its id, the id of its configuration (trials differing only by seed share it),
# its method, its role (a grid trial or a confirmation run of a selected config), its training
# seed, its sampling seed and the digest of the settings it was made under. Hyperparameter
# columns are not listed here: they are the axes the study's methods register
# (harness.objectives).
ROLE_GRID = "grid"
ROLE_CONFIRM = "confirm"
ROLES = (ROLE_GRID, ROLE_CONFIRM)
STUDY_HASH = "study_hash"
TRIAL_ID_COLUMNS = ("trial_id", "config_id", "method", "role", "seed", "generation_seed",
                    STUDY_HASH)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_DIVERGED = "diverged"
STATUSES = (STATUS_OK, STATUS_FAILED, STATUS_DIVERGED)

# Per-model metrics (docs/evaluation.md, harness.metrics); NaN for failed/diverged trials.
# mean_kl: mean exact KL per response; kl_per_token: sum of KL / sum of length over the
# trial's samples (a ratio of means); mean_kl_sample: mean of the sampled-token estimate.
MODEL_METRICS = (
    "mean_score",
    "win_vs_chosen",
    "win_vs_sft",
    "mean_kl",
    "kl_per_token",
    "mean_kl_sample",
    "mean_length",
    "length_logp_spearman",
)
TRAIN_METRICS = ("train_loss", "reward_accuracy", "reward_margin", "diverged_step")
TIMING_COLUMNS = (
    "time_train_s",
    "time_generate_s",
    "time_judge_s",
    "time_kl_s",
    "time_total_s",
    "peak_rss_mb",
    "gpu_hours",  # trial wall seconds x GPUs held / 3600 (0.0 on CPU)
)

TRIAL_BASE_COLUMNS = (
    TRIAL_ID_COLUMNS
    + ("status", "error")
    + TRAIN_METRICS
    + MODEL_METRICS
    + TIMING_COLUMNS
)

# One row per (trial, prompt, sample). kl: the exact KL of the response (harness.kl, >= 0);
# kl_sample: the sampled-token estimate sum_t log pi_theta(y_t) - log pi_sft(y_t);
# kl_per_token = kl / length; sft_score: the SFT model's mean score on the prompt.
SAMPLE_COLUMNS = (
    "trial_id",
    "prompt_id",
    "sample_index",
    "response",
    "length",
    "finished",
    "score",
    "kl",
    "kl_sample",
    "kl_per_token",
    "chosen_score",
    "sft_score",
)

BASELINE_TRIAL_ID = "sft"

# Optional samples/baseline columns: a judge's score breakdown (harness.judges.registry).
JUDGE_COLUMN_PREFIX = "judge_"


def judge_breakdown_columns(columns) -> list[str]:
    """The ``judge_<component>`` columns among ``columns``, in their order."""
    return [c for c in columns if str(c).startswith(JUDGE_COLUMN_PREFIX)]

# Two gold scores s, r tie when |s - r| <= TIE_TOLERANCE * max(1, |s|, |r|): a reward model
# scoring the same text in another batch differs by ~1e-7 in float32, and that noise must not
# decide a win. Used by the harness's win rates and by the analysis's head-to-head alike.
TIE_TOLERANCE = 1e-5


def is_tie(a, b, tolerance: float = TIE_TOLERANCE):
    """Elementwise tie test of two score arrays (numpy)."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) <= tolerance * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


# "Below SFT", the one definition (docs/evaluation.md, "Below SFT"): a trial ends below the SFT
# model when its mean_score is not strictly above the SFT model's mean score on the same eval
# prompts: a tie counts as below, and so does a trial without a score (failed or diverged: its
# mean_score is NaN, or the analysis's failure floor). The sweep's summary and the report's
# share of trials below SFT and risk below SFT all use it.
def below_sft(scores, sft_score):
    """Elementwise ``not (scores > sft_score)`` (numpy broadcasting): True at or below the SFT
    model's score and for NaN scores (trials that did not complete)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        return ~(np.asarray(scores, dtype=float) > np.asarray(sft_score, dtype=float))


def share_below_sft(scores, sft_score):
    """Share of ``scores`` (..., N: one per trial) below ``sft_score`` (..., 1 or scalar) by
    :func:`below_sft`, over the last axis; NaN when the SFT score is not finite or N is 0."""
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    sft = np.asarray(sft_score, dtype=float)
    if scores.shape[-1] == 0:
        return np.nan
    share = below_sft(scores, sft).mean(axis=-1)
    finite = np.isfinite(sft if sft.ndim == 0 else sft[..., 0])
    return np.where(finite, share, np.nan)[()]


# A results folder belongs to one study config: a trial row enters the study's tables only when
# it was made under the study's result settings (``study_hash``, the digest of the settings that
# change a trial's result) and its trial id is in the study's trial set (study.json
# ``trial_ids``). Other rows stay on disk, are counted by reason (study.json ``excluded``) and
# can be pruned (``python -m harness.sweep STUDY.yaml --prune``).
EXCLUDED_OTHER_SETTINGS = "other_settings"
EXCLUDED_NOT_IN_GRID = "not_in_grid"
EXCLUSION_WORDS = {
    EXCLUDED_OTHER_SETTINGS: "made under other settings",
    EXCLUDED_NOT_IN_GRID: "no longer in the grid",
}


def exclusion_reason(trial_id: str, row_hash, study_hash: str, trial_ids) -> str | None:
    """Why a trial row is not part of the study (``None``: it is).

    ``row_hash`` is the row's ``study_hash`` (``None``/NaN for rows of an older harness, which
    are judged by their id alone: a trial id is a digest of the study hash too). A row outside
    the trial set whose hash is unknown counts as made under other settings.
    """
    known = isinstance(row_hash, str) and row_hash != ""
    if known and row_hash != study_hash:
        return EXCLUDED_OTHER_SETTINGS
    if trial_id not in trial_ids:
        return EXCLUDED_NOT_IN_GRID if known else EXCLUDED_OTHER_SETTINGS
    return None


def describe_excluded(counts: dict | None) -> str:
    """``"3 made under other settings, 2 no longer in the grid"``; ``""`` when none."""
    counts = counts or {}
    return ", ".join(f"{counts[k]} {words}" for k, words in EXCLUSION_WORDS.items()
                     if counts.get(k))
