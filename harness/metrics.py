"""Per-sample and per-model evaluation metrics (docs/evaluation.md). Pure numpy/pandas.

Per sample (one row of ``samples.parquet``, columns :data:`harness.schema.SAMPLE_COLUMNS`; a
prompt has ``generation.samples_per_prompt`` rows, ``sample_index`` 0..n-1):

* ``length``: response tokens in the policy's tokenizer, the stop token included when the policy
  chose one (so an empty reply has length 1; see :mod:`harness.generate`); ``finished``: the
  reply ended on a stop (False: cut at ``max_new_tokens``);
* ``score``: gold reward of the response; ``chosen_score``: of the dataset's chosen reply;
  ``sft_score``: the SFT model's mean score on the same prompt (over its samples);
* ``kl``: the exact KL of the response, ``sum_t KL(pi_theta(.|x,y<t) || pi_sft(.|x,y<t))`` over
  its positions (:mod:`harness.kl`, >= 0); ``kl_sample = sum_t [log pi_theta(y_t) - log
  pi_sft(y_t)]``, the sampled-token estimate of the same quantity (can be negative);
* ``kl_per_token = kl / length`` (NaN where length is 0, which generation never produces).

Per model (:data:`harness.schema.MODEL_METRICS`), over all of the model's samples (every prompt
has the same number, so a mean over samples is the mean over prompts of the per-prompt means):

* ``mean_score``, ``mean_kl``, ``mean_kl_sample``, ``mean_length``: means;
* ``kl_per_token = sum(kl) / sum(length)``: a ratio of means (the KL per generated token),
  not the mean of per-sample ratios, which short replies dominate;
* ``win_vs_chosen = mean_i (1[s_i > c_i] + 0.5 * 1[s_i == c_i])``, ``win_vs_sft`` likewise
  against ``sft_score`` (ties count one half, as in the paper's win rates and rliable's
  probability of improvement; scores within a relative 1e-5 are a tie, :data:`harness.schema.TIE_TOLERANCE`);
* ``length_logp_spearman``: Spearman rank correlation between ``length`` and the policy's own
  average log-prob per token ``logp / length`` of its sample (SimPO's length-exploitation check,
  Meng et al. 2024); NaN when either is constant or fewer than two samples.

NaN scores propagate: a metric over a column with a NaN is NaN (loud, never silently dropped).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harness.schema import MODEL_METRICS, SAMPLE_COLUMNS, TIE_TOLERANCE, is_tie


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def win_rate(scores, reference, tie_tolerance: float = TIE_TOLERANCE) -> float:
    """``mean(1[s > r] + 0.5 * 1[s == r])`` with ``s == r`` meaning ``|s - r| <= tol * max(1,
    |s|, |r|)``; NaN if any pair has a NaN or there are no pairs."""
    s, r = _arr(scores), _arr(reference)
    if s.shape != r.shape:
        raise ValueError(f"win_rate: {s.shape[0]} scores but {r.shape[0]} reference scores")
    if s.size == 0 or np.isnan(s).any() or np.isnan(r).any():
        return float("nan")
    return float(np.mean(np.where(is_tie(s, r, tie_tolerance), 0.5, (s > r).astype(float))))


def per_token(total, length) -> np.ndarray:
    """``total / length`` elementwise; NaN where length is 0 (never inf)."""
    total, length = _arr(total), _arr(length)
    return np.where(length > 0, total / np.where(length > 0, length, 1.0), np.nan)


def kl_per_token(kl, length) -> np.ndarray:
    """The length-normalized KL, ``kl / length``."""
    return per_token(kl, length)


def spearman(x, y) -> float:
    """Spearman's rho: Pearson correlation of average ranks (ties share their mean rank).

    NaN when there are fewer than two finite pairs or either side is constant.
    """
    x, y = _arr(x), _arr(y)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    rx = pd.Series(x).rank(method="average").to_numpy()
    ry = pd.Series(y).rank(method="average").to_numpy()
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / np.sqrt((rx * rx).sum() * (ry * ry).sum()))


def sample_table(
    trial_id: str,
    prompt_id: Sequence[str],
    response: Sequence[str],
    length,
    score,
    kl,
    chosen_score,
    sft_score,
    *,
    kl_sample,
    finished,
    sample_index=None,
) -> pd.DataFrame:
    """One row per sample in :data:`SAMPLE_COLUMNS` order; ``kl_per_token`` derived here.
    ``sample_index`` defaults to 0 for every row (one sample per prompt)."""
    n = len(prompt_id)
    if sample_index is None:
        sample_index = np.zeros(n, dtype=np.int64)
    cols = {"response": response, "length": length, "score": score, "kl": kl,
            "kl_sample": kl_sample, "finished": finished, "sample_index": sample_index,
            "chosen_score": chosen_score, "sft_score": sft_score}
    for name, col in cols.items():
        if len(col) != n:
            raise ValueError(f"sample_table: column {name} has {len(col)} rows, expected {n}")
    length = np.asarray(length, dtype=np.int64)
    df = pd.DataFrame(
        {
            # plain str lists: pandas' default string dtype, the same after a parquet round trip
            "trial_id": [str(trial_id)] * n,
            "prompt_id": [str(p) for p in prompt_id],
            "sample_index": np.asarray(sample_index, dtype=np.int64),
            "response": [str(r) for r in response],
            "length": length,
            "finished": np.asarray(finished, dtype=bool),
            "score": _arr(score),
            "kl": _arr(kl),
            "kl_sample": _arr(kl_sample),
            "kl_per_token": kl_per_token(kl, length),
            "chosen_score": _arr(chosen_score),
            "sft_score": _arr(sft_score),
        }
    )
    return df[list(SAMPLE_COLUMNS)]


def ratio_of_sums(total, length) -> float:
    """``sum(total) / sum(length)`` (NaN when there is no length)."""
    total, length = _arr(total), _arr(length)
    n = float(length.sum())
    return float(total.sum() / n) if n > 0 else float("nan")


def model_metrics(samples: pd.DataFrame, logp=None) -> dict[str, float]:
    """The per-model metrics of one model's sample rows (any number of samples per prompt).

    ``logp``: the policy's summed log-prob of each sampled response (same row order), for
    ``length_logp_spearman``; without it that metric is NaN.
    """
    missing = [c for c in SAMPLE_COLUMNS if c not in samples.columns]
    if missing:
        raise ValueError(f"model_metrics: samples lack columns {missing}")
    if len(samples) == 0:
        return {m: float("nan") for m in MODEL_METRICS}
    length = _arr(samples["length"])
    rho = float("nan")
    if logp is not None:
        logp = _arr(logp)
        if logp.shape != length.shape:
            raise ValueError(
                f"model_metrics: {logp.shape[0]} logp values for {length.shape[0]} rows"
            )
        rho = spearman(length, per_token(logp, length))
    out = {
        "mean_score": float(np.mean(_arr(samples["score"]))),
        "win_vs_chosen": win_rate(samples["score"], samples["chosen_score"]),
        "win_vs_sft": win_rate(samples["score"], samples["sft_score"]),
        "mean_kl": float(np.mean(_arr(samples["kl"]))),
        "kl_per_token": ratio_of_sums(samples["kl"], length),
        "mean_kl_sample": float(np.mean(_arr(samples["kl_sample"]))),
        "mean_length": float(np.mean(length)),
        "length_logp_spearman": rho,
    }
    return {m: out[m] for m in MODEL_METRICS}
