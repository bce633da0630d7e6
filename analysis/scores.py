"""Per-config mean scores with a shared prompt bootstrap, and the failure floor.

Uncertainty in a grid study comes from the eval prompts: the grid itself is the population
(facts.md, "Analysis formulas"). One replicate resamples the prompt ids with replacement once
and recomputes every config's and the SFT model's mean score on that same resample, so all
statistics of a replicate (budget curves, PoI, head-to-head, BT) are paired across methods.
A replicate is stored as prompt multiplicities ``weights[b, p]`` (how often prompt ``p`` was
drawn; each row sums to ``n_prompts``), so a replicate mean is ``weights @ matrix.T / n_prompts``.

Failed and diverged trials have no score. Where a statistic needs one they get the *failure
floor*: ``min(real) - 0.05 * (max(real) - min(real))`` over the real mean scores of the study
(every ok config and the SFT model, per replicate), i.e. strictly below every real model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.load import Study
from harness.schema import STATUS_OK

FLOOR_MARGIN = 0.05


def prompt_weights(n_prompts: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_prompts) int multiplicities of ``n_boot`` prompt resamples (with replacement)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_prompts, size=(n_boot, n_prompts))
    weights = np.zeros((n_boot, n_prompts), dtype=np.int64)
    np.add.at(weights, (np.arange(n_boot)[:, None], draws), 1)
    return weights


def replicate_means(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, C) means of each row of ``matrix`` (C, P) under each weight row (B, P).

    Rows with a NaN (failed trials) stay NaN."""
    matrix = np.atleast_2d(matrix)
    nan_rows = np.isnan(matrix).any(axis=1)
    filled = np.where(np.isnan(matrix), 0.0, matrix)
    means = weights @ filled.T / weights.sum(axis=1, keepdims=True)
    means[:, nan_rows] = np.nan
    return means


def failure_floor(values: np.ndarray, extra: np.ndarray | float | None = None) -> np.ndarray:
    """Floor below every finite value along the last axis (and ``extra``, e.g. the SFT score).

    ``values`` (..., C) with NaN for failures; returns (...) floors.
    """
    values = np.asarray(values, dtype=float)
    pool = values if extra is None else np.concatenate(
        [values, np.broadcast_to(np.asarray(extra, float)[..., None], values.shape[:-1] + (1,))],
        axis=-1)
    lo = np.nanmin(pool, axis=-1)
    hi = np.nanmax(pool, axis=-1)
    span = np.where(hi > lo, hi - lo, 1.0)
    return lo - FLOOR_MARGIN * span


@dataclass(frozen=True)
class ConfigScores:
    """Mean score of every trial (point and bootstrap replicates) and of the SFT model.

    ``trial_ids``/``methods``/``status``: (C,) in ``study.trials`` order. ``point``: (C,) mean
    score (NaN when not ok). ``reps``: (B, C). ``sft_point``: float; ``sft_reps``: (B,).
    ``weights``: (B, P) prompt multiplicities shared by every statistic built on this object.
    ``floor``/``floor_reps``: the failure floor of the point estimate and of each replicate.
    """

    trial_ids: np.ndarray
    methods: np.ndarray
    status: np.ndarray
    point: np.ndarray
    reps: np.ndarray
    sft_point: float
    sft_reps: np.ndarray
    weights: np.ndarray
    floor: float
    floor_reps: np.ndarray
    seed: int
    level: float

    @property
    def n_boot(self) -> int:
        return int(self.weights.shape[0])

    @property
    def ok(self) -> np.ndarray:
        return self.status == STATUS_OK

    def index(self, method: str) -> np.ndarray:
        idx = np.flatnonzero(self.methods == method)
        if idx.size == 0:
            raise KeyError(f"method {method!r} has no trials")
        return idx

    def effective(self, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores with failures at the floor: point (C_m,) and replicates (B, C_m)."""
        point = np.where(self.ok, self.point, self.floor)
        reps = np.where(self.ok[None, :], self.reps, self.floor_reps[:, None])
        if method is None:
            return point, reps
        idx = self.index(method)
        return point[idx], reps[:, idx]

    def interval(self, reps: np.ndarray, axis: int = 0,
                 method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
        """Percentile bootstrap interval at ``level`` along ``axis`` (``np.quantile`` method;
        "inverted_cdf" for integer or infinite statistics)."""
        alpha = (1.0 - self.level) / 2.0
        lo, hi = np.nanquantile(reps, [alpha, 1.0 - alpha], axis=axis, method=method)
        return lo, hi


def config_scores(study: Study, n_boot: int = 1000, seed: int = 0,
                  level: float = 0.95) -> ConfigScores:
    """Build the shared prompt bootstrap of ``study`` (``n_boot`` replicates, ``seed``)."""
    trials = study.trials
    matrix = study.matrix("score")
    sft = study.baseline_vector("score")
    weights = prompt_weights(len(sft), n_boot, seed)
    ok = (trials["status"] == STATUS_OK).to_numpy()
    point = np.where(ok, np.nanmean(np.where(ok[:, None], matrix, 0.0), axis=1), np.nan)
    reps = replicate_means(matrix, weights)
    sft_point = float(sft.mean())
    sft_reps = replicate_means(sft[None, :], weights)[:, 0]
    return ConfigScores(
        trial_ids=trials["trial_id"].to_numpy(dtype=object),
        methods=trials["method"].to_numpy(dtype=object),
        status=trials["status"].to_numpy(dtype=object),
        point=point,
        reps=reps,
        sft_point=sft_point,
        sft_reps=sft_reps,
        weights=weights,
        floor=float(failure_floor(point, sft_point)),
        floor_reps=failure_floor(reps, sft_reps),
        seed=seed,
        level=level,
    )
