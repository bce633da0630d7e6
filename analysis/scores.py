"""Config scores with a hierarchical bootstrap over training seeds and prompts, and the floor.

A *config* is one point of a method's grid; its grid trials (``role == "grid"``) sharing a
``config_id`` are replicates under different training seeds, and its score is the mean of its
seeds' mean scores. Two sources of noise make that score uncertain: which training seeds were
run, and which eval prompts were sampled. One bootstrap replicate ``b``

1. resamples the prompt ids with replacement once (multiplicities ``weights[b, p]``; each row
   sums to ``n_prompts``) and recomputes every trial's and the SFT model's mean score on that
   same resample, so every statistic of the replicate is paired across configs and methods;
2. resamples, within each config, its S seeds with replacement (``seed_draws[b, t]``: the trial
   whose replicate mean fills the config's slot ``t``), so a config's replicate score is the
   mean of S seed draws.

This is the two-stage (cluster) bootstrap of Davison & Hinkley (1997, "Bootstrap Methods and
their Application", sec. 3.8) with the prompts crossed over all trials; it treats each config's
seeds as an independent sample, i.e. a user's new trial gets its own seed. With one seed per
config step 2 is the identity and the replicates equal the plain prompt bootstrap exactly (the
prompt resamples come from ``numpy.random.default_rng(seed)`` as before; the seed draws from a
separate stream). With S seeds the seed part of an interval is narrow by about
``sqrt((S-1)/S)`` (the usual small-sample bias of resampling S clusters: 18% at S = 3).

Best-of-n and the risk of ending below SFT draw (config, seed) pairs, as a user's trial would:
``ConfigScores.effective_trials`` gives the pool of grid trials, seed-resampled per replicate.

Failed and diverged trials have no score. Where a statistic needs one they get the *failure
floor* (:func:`harness.selection.failure_floor`, shared with the sweep's ``--confirm``): ``min(real) - 0.05 * (max(real) - min(real))`` over the real mean scores of the study
(every ok grid trial and the SFT model, per replicate), i.e. strictly below every real model. A
config's score averages its seeds with failed ones at the floor; a config none of whose seeds
completed has no score (NaN; the floor where one is needed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.load import Study
from harness.schema import STATUS_OK
from harness.selection import FLOOR_MARGIN, failure_floor  # the one rule, shared with --confirm

__all__ = ["FLOOR_MARGIN", "ConfigScores", "config_scores", "failure_floor", "grid_order",
           "model_vectors", "prompt_weights", "replicate_means", "seed_draws"]
SEED_STREAM = 0x5EED  # the seed resampling's random stream, separate from the prompts'


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


def seed_draws(groups: list[np.ndarray], n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, T) trial indices: for each group (a config's trial indices, contiguous slots in
    group order), each replicate draws as many trials from the group with replacement. A
    group of one is its own draw and consumes no random numbers."""
    rng = np.random.default_rng([seed, SEED_STREAM])
    cols = []
    for g in groups:
        g = np.asarray(g)
        if g.size == 1:
            cols.append(np.broadcast_to(g, (n_boot, 1)))
        else:
            cols.append(g[rng.integers(0, g.size, size=(n_boot, g.size))])
    return np.concatenate(cols, axis=1) if cols else np.zeros((n_boot, 0), dtype=int)


@dataclass(frozen=True)
class ConfigScores:
    """Mean score of every grid config and grid trial (point and bootstrap replicates) and of
    the SFT model, on one shared set of hierarchical bootstrap replicates.

    Configs (C, in study order): ``config_ids``, ``methods``, ``status`` ("ok" when at least one
    seed completed, else the failure), ``n_seeds``, ``point`` (C,) (NaN without a completed
    seed), ``reps`` (B, C). Trials (T, grid rows grouped by config, contiguous): ``trial_ids``,
    ``trial_methods``, ``trial_status``, ``trial_config`` (T,) index of the trial's config,
    ``trial_point`` (T,) its own mean score, ``trial_reps`` (B, T) the prompt-resampled trial
    means, ``draws`` (B, T) the seed draws (see ``seed_draws``). ``sft_point``/``sft_reps``,
    ``weights`` (B, P), ``floor``/``floor_reps``: the failure floor (point and per replicate).
    """

    config_ids: np.ndarray
    methods: np.ndarray
    status: np.ndarray
    n_seeds: np.ndarray
    point: np.ndarray
    reps: np.ndarray
    trial_ids: np.ndarray
    trial_methods: np.ndarray
    trial_status: np.ndarray
    trial_config: np.ndarray
    trial_point: np.ndarray
    trial_reps: np.ndarray
    draws: np.ndarray
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

    @property
    def method_list(self) -> list[str]:
        return list(dict.fromkeys(self.methods))

    @property
    def max_seeds(self) -> int:
        return int(self.n_seeds.max()) if self.n_seeds.size else 1

    def index(self, method: str) -> np.ndarray:
        idx = np.flatnonzero(self.methods == method)
        if idx.size == 0:
            raise KeyError(f"method {method!r} has no grid configs")
        return idx

    def trial_index(self, method: str) -> np.ndarray:
        idx = np.flatnonzero(self.trial_methods == method)
        if idx.size == 0:
            raise KeyError(f"method {method!r} has no grid trials")
        return idx

    def effective(self, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Config scores with configs that never completed at the floor: point (C_m,) and
        replicates (B, C_m)."""
        point = np.where(np.isnan(self.point), self.floor, self.point)
        reps = np.where(np.isnan(self.reps), self.floor_reps[:, None], self.reps)
        if method is None:
            return point, reps
        idx = self.index(method)
        return point[idx], reps[:, idx]

    def effective_trials(self, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The pool of (config, seed) pairs a user's trial is drawn from, failures at the floor:
        point (T_m,) and seed-resampled replicates (B, T_m)."""
        ok = self.trial_status == STATUS_OK
        point = np.where(ok, self.trial_point, self.floor)
        filled = np.where(ok[None, :], self.trial_reps, self.floor_reps[:, None])
        reps = np.take_along_axis(filled, self.draws, axis=1)
        if method is None:
            return point, reps
        idx = self.trial_index(method)
        return point[idx], reps[:, idx]

    def interval(self, reps: np.ndarray, axis: int = 0,
                 method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
        """Percentile bootstrap interval at ``level`` along ``axis`` (``np.quantile`` method;
        "inverted_cdf" for integer or infinite statistics)."""
        alpha = (1.0 - self.level) / 2.0
        lo, hi = np.nanquantile(reps, [alpha, 1.0 - alpha], axis=axis, method=method)
        return lo, hi

    def config_trials(self, config: int) -> np.ndarray:
        """Trial indices (into the T axis) of config number ``config``."""
        return np.flatnonzero(self.trial_config == config)


def grid_order(study: Study) -> pd.DataFrame:
    """The grid rows grouped by config: configs in study order (method, then the config's first
    trial_id), each config's trials by trial_id. Adds ``_config`` (0-based config number)."""
    grid = study.grid
    first = grid.groupby("config_id")["trial_id"].transform("min")
    rank = grid["method"].map({m: i for i, m in enumerate(study.methods)})
    out = grid.assign(_m=rank, _first=first).sort_values(["_m", "_first", "trial_id"],
                                                         kind="stable")
    out["_config"] = pd.factorize(out["config_id"])[0]
    return out.drop(columns=["_m", "_first"]).reset_index(drop=True)


def _config_status(status: np.ndarray) -> str:
    if (status == STATUS_OK).any():
        return STATUS_OK
    values, counts = np.unique(status, return_counts=True)
    return str(values[np.argmax(counts)])


def config_scores(study: Study, n_boot: int = 1000, seed: int = 0,
                  level: float = 0.95) -> ConfigScores:
    """Build the shared hierarchical bootstrap of ``study``'s grid (``n_boot`` replicates,
    ``seed``)."""
    grid = grid_order(study)
    matrix = study.matrix("score", grid["trial_id"])
    sft = study.baseline_vector("score")
    weights = prompt_weights(len(sft), n_boot, seed)
    ok = (grid["status"] == STATUS_OK).to_numpy()
    tpoint = np.where(ok, np.nanmean(np.where(ok[:, None], matrix, 0.0), axis=1), np.nan)
    treps = replicate_means(matrix, weights)
    sft_point = float(sft.mean())
    sft_reps = replicate_means(sft[None, :], weights)[:, 0]
    floor = float(failure_floor(tpoint, sft_point))
    floor_reps = failure_floor(treps, sft_reps)

    cfg = grid["_config"].to_numpy()
    starts = np.flatnonzero(np.r_[True, cfg[1:] != cfg[:-1]])
    sizes = np.diff(np.r_[starts, len(cfg)])
    groups = [np.arange(s, s + n) for s, n in zip(starts, sizes)]
    draws = seed_draws(groups, n_boot, seed)
    eff_point = np.where(ok, tpoint, floor)
    eff_reps = np.take_along_axis(np.where(ok[None, :], treps, floor_reps[:, None]), draws, 1)
    any_ok = np.add.reduceat(ok.astype(int), starts) > 0
    point = np.where(any_ok, np.add.reduceat(eff_point, starts) / sizes, np.nan)
    reps = np.add.reduceat(eff_reps, starts, axis=1) / sizes
    reps[:, ~any_ok] = np.nan
    status = grid["status"].to_numpy(dtype=object)
    return ConfigScores(
        config_ids=grid["config_id"].to_numpy(dtype=object)[starts],
        methods=grid["method"].to_numpy(dtype=object)[starts],
        status=np.array([_config_status(status[g]) for g in groups], dtype=object),
        n_seeds=sizes,
        point=point,
        reps=reps,
        trial_ids=grid["trial_id"].to_numpy(dtype=object),
        trial_methods=grid["method"].to_numpy(dtype=object),
        trial_status=status,
        trial_config=cfg,
        trial_point=tpoint,
        trial_reps=treps,
        draws=draws,
        sft_point=sft_point,
        sft_reps=sft_reps,
        weights=weights,
        floor=floor,
        floor_reps=floor_reps,
        seed=seed,
        level=level,
    )


def model_vectors(study: Study, trial_ids, column: str, cs: ConfigScores,
                  key: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-prompt ``column`` of a model made of several replicate trials (a config's seeds):
    the point (P,) is the mean over the trials; ``reps`` (B, P) the mean over a seed resample
    per bootstrap replicate (None for a single trial: its vector is the same in every
    replicate). ``key`` names the model so its seed draws are reproducible (``cs.seed``)."""
    ids = list(trial_ids)
    m = study.matrix(column, ids)
    point = m.mean(axis=0)
    if len(ids) == 1:
        return point, None
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")
    rng = np.random.default_rng([cs.seed, SEED_STREAM, digest])
    idx = rng.integers(0, len(ids), size=(cs.n_boot, len(ids)))
    # mean of the drawn trials' vectors: (B, S) draws -> counts (B, S) @ m (S, P) / S
    counts = np.zeros((cs.n_boot, len(ids)))
    np.add.at(counts, (np.arange(cs.n_boot)[:, None], idx), 1.0)
    return point, counts @ m / len(ids)
