"""Column contracts shared by the harness stages and the analysis package.

These names are the same words as the YAML keys and the Python arguments (design.md,
"Results layout"). Analysis reads only the tables described here.

Data tables (what every data adapter and the toy world produce):

- train pairs: ``pair_id`` (str), ``prompt`` (list of chat messages ``{"role", "content"}``,
  the last one a user turn), ``chosen`` (str), ``rejected`` (str).
- eval prompts: ``prompt_id`` (str), ``prompt`` (messages, as above), ``chosen`` (str: the
  dataset's preferred reply, for win-vs-chosen) and optionally ``rejected`` (str).

Results tables (``results/<study>/``):

- ``trials.parquet``: one row per trial, columns ``TRIAL_COLUMNS``.
- ``samples.parquet``: one row per (trial, eval prompt), columns ``SAMPLE_COLUMNS``, then the
  optional judge breakdown ``judge_<component>`` (``JUDGE_COLUMN_PREFIX``), written when the
  study's judge offers one: the score's components, summing to ``score`` row by row.
- ``baseline.parquet``: the SFT model's rows in the samples schema, ``trial_id == "sft"``.
"""

from __future__ import annotations

TRAIN_COLUMNS = ("pair_id", "prompt", "chosen", "rejected")
EVAL_COLUMNS = ("prompt_id", "prompt", "chosen")
EVAL_OPTIONAL_COLUMNS = ("rejected",)

METHODS = ("dpo", "ln_dpo", "simpo")
HYPERPARAMETERS = ("beta", "gamma", "gamma_beta_ratio", "learning_rate", "epochs", "seed")

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_DIVERGED = "diverged"
STATUSES = (STATUS_OK, STATUS_FAILED, STATUS_DIVERGED)

# Per-model metrics (design.md "Metrics"); NaN for failed/diverged trials.
MODEL_METRICS = (
    "mean_score",
    "win_vs_chosen",
    "win_vs_sft",
    "mean_kl",
    "mean_kl_per_token",
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
)

TRIAL_COLUMNS = (
    ("trial_id", "method")
    + HYPERPARAMETERS
    + ("status", "error")
    + TRAIN_METRICS
    + MODEL_METRICS
    + TIMING_COLUMNS
)

SAMPLE_COLUMNS = (
    "trial_id",
    "prompt_id",
    "response",
    "length",
    "score",
    "kl",
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
