"""Recommendations: which method to start with, a robust starting config, ranges worth searching.

The axes are each method's grid axes (``analysis.methods``: registered in study.json, derived
axes left out because they move with the others); callers pass them as ``{method: [names]}``.

- Robust starting config: each config's *neighbourhood score* is
  ``0.5 * score(config) + 0.5 * mean(score(neighbours))`` (a config's score is its seeds' mean,
  failures at the floor), where the neighbours are the configs one grid step away on exactly
  one axis; a config without neighbours keeps its own score. The recommended start maximises it
  among completed configs, so a lone lucky config surrounded by poor ones loses to a good config
  in a good region. Ties: the config's own score, then its first trial_id.
- Ranges worth searching: per axis, the grid values present among the top quarter of configs by
  score (at least 3 configs; completed ones only).
- Which method: the highest expected best-of-n score (without replacement over (config, seed)
  trials, ``analysis.expected_max``) at ``budget`` trials. The comparison with every other
  method is paired over the bootstrap replicates: the difference of expected bests, its
  interval, the share of replicates where the leader is ahead, and whether the two marginal
  intervals overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.expected_max import expected_max_curve
from analysis.scores import ConfigScores
from harness.schema import STATUS_OK

TOP_SHARE = 0.25
MIN_TOP = 3


def neighbourhoods(configs: pd.DataFrame, axes) -> list[np.ndarray]:
    """For each row of one method's ``configs`` (positional), the positions of its neighbourhood
    (itself and the configs one grid step away along one of ``axes``)."""
    axes = [a for a in axes if a in configs]
    if not axes:
        return [np.arange(len(configs)) for _ in range(len(configs))]
    idx = np.stack([
        configs[a].map({v: i for i, v in enumerate(sorted(configs[a].dropna().unique()))})
        .to_numpy(dtype=float) for a in axes], axis=1)
    dist = np.abs(idx[:, None, :] - idx[None, :, :])
    near = (np.nan_to_num(dist, nan=99).sum(axis=-1) <= 1)
    return [np.flatnonzero(row) for row in near]


def _robust(values: np.ndarray, hoods: list[np.ndarray]) -> np.ndarray:
    """(..., C) scores -> (..., C) half own score, half the neighbours' mean."""
    out = np.empty_like(values)
    for i, h in enumerate(hoods):
        others = h[h != i]
        own = values[..., i]
        out[..., i] = own if others.size == 0 else 0.5 * own + 0.5 * values[..., others].mean(-1)
    return out


def neighbourhood_scores(configs: pd.DataFrame, axes, reps: np.ndarray | None = None):
    """Neighbourhood score of each config: (C,), and (B, C) for replicates ``reps`` (B, C)."""
    hoods = neighbourhoods(configs, axes)
    point = _robust(configs["score"].to_numpy(float), hoods)
    if reps is None:
        return point
    return point, _robust(np.asarray(reps, float), hoods)


def start_configs(configs: pd.DataFrame, cs: ConfigScores, axes: dict,
                  columns=()) -> pd.DataFrame:
    """Per method the recommended starting config, chosen among the configs that completed.

    ``axes``: {method: grid axis names}; ``columns``: further columns of ``configs`` to carry
    (every axis column, so the start prints every axis). Columns: method, config_id, trial_id,
    the axis columns, status, n_seeds, score (+lo/hi), neighbourhood (+lo/hi), n_neighbours,
    rank_by_score (1 = best), best_score. A method none of whose configs completed gets a row
    with config_id None.
    """
    axis_cols = list(dict.fromkeys([a for names in axes.values() for a in names]
                                   + list(columns)))
    rows = []
    for m in dict.fromkeys(configs["method"]):
        sub = configs[configs["method"] == m].reset_index(drop=True)
        _, reps = cs.effective(m)
        hoods = neighbourhoods(sub, axes.get(m, []))
        hood, hood_reps = neighbourhood_scores(sub, axes.get(m, []), reps)
        candidates = [i for i in range(len(sub)) if sub.at[i, "status"] == STATUS_OK]
        if not candidates:
            rows.append(dict(method=m, config_id=None, trial_id=None, status="none completed"))
            continue
        i = min(candidates, key=lambda i: (-hood[i], -sub.at[i, "score"], sub.at[i, "trial_id"]))
        h_lo, h_hi = cs.interval(hood_reps[:, i])
        rank = int((sub["score"] > sub.at[i, "score"]).sum()) + 1
        row = {k: sub.at[i, k] for k in ("config_id", "trial_id", *axis_cols, "status",
                                         "n_seeds") if k in sub}
        rows.append(dict(method=m, **row, score=float(sub.at[i, "score"]),
                         score_lo=float(sub.at[i, "score_lo"]),
                         score_hi=float(sub.at[i, "score_hi"]),
                         neighbourhood=float(hood[i]), neighbourhood_lo=float(h_lo),
                         neighbourhood_hi=float(h_hi), n_neighbours=len(hoods[i]) - 1,
                         rank_by_score=rank, best_score=float(sub["score"].max())))
    cols = ["method", "config_id", "trial_id", *axis_cols, "status", "n_seeds", "score",
            "score_lo", "score_hi", "neighbourhood", "neighbourhood_lo", "neighbourhood_hi",
            "n_neighbours", "rank_by_score", "best_score"]
    return pd.DataFrame(rows).reindex(columns=cols)


def search_ranges(configs: pd.DataFrame, axes: dict) -> pd.DataFrame:
    """Per method and grid axis (``axes``: {method: names}): the values seen among the top
    quarter of configs by score.

    Columns: method, param, values (sorted list), low, high, grid_values, full_grid, n_top.
    """
    rows = []
    for m in dict.fromkeys(configs["method"]):
        sub = configs[configs["method"] == m]
        done = sub[sub["status"] == STATUS_OK]
        if done.empty:
            continue
        n_top = min(len(done), max(MIN_TOP, math.ceil(TOP_SHARE * len(sub))))
        top = done.sort_values(["score", "trial_id"], ascending=[False, True]).head(n_top)
        for a in axes.get(m, []):
            grid = sorted(sub[a].dropna().unique())
            if len(grid) < 2:
                continue
            vals = sorted(top[a].dropna().unique())
            rows.append(dict(method=m, param=a, values=vals, low=min(vals), high=max(vals),
                             grid_values=grid, full_grid=(vals == grid), n_top=n_top))
    return pd.DataFrame(rows, columns=["method", "param", "values", "low", "high",
                                       "grid_values", "full_grid", "n_top"])


@dataclass(frozen=True)
class MethodChoice:
    """The method to start with at ``budget`` trials and how firmly the data say so."""

    method: str
    budget: int
    expected_best: float
    comparisons: pd.DataFrame  # vs every other method, see ``choose_method``
    leaders: pd.DataFrame  # per budget: method with the highest expected best


def choose_method(cs: ConfigScores, budget: int = 3, budgets=(1, 3, 5, 10)) -> MethodChoice:
    """Rank methods by expected best-of-``budget`` (without replacement) among the methods with
    a completed trial; compare the leader with each other method on paired replicates.

    ``comparisons`` columns: method, n, leader_best (+lo/hi), other_best (+lo/hi), diff
    (+lo/hi), p_ahead (share of replicates with the leader ahead), overlap (marginal intervals
    overlap), separated (the difference interval excludes 0).
    """
    methods = cs.method_list
    n_max = max(max(budgets), budget)
    curves, rep_curves = {}, {}
    for m in methods:
        point, reps = cs.effective_trials(m)
        curves[m] = expected_max_curve(point, n_max)
        rep_curves[m] = expected_max_curve(reps, n_max)
    # A method with no completed trial has nothing to start from; it leads only if none has.
    done = [m for m in methods if cs.ok[cs.index(m)].any()] or methods
    leader = max(done, key=lambda m: (curves[m][budget - 1], -methods.index(m)))
    rows = []
    for other in methods:
        if other == leader:
            continue
        for n in sorted(set(budgets) | {budget}):
            a, b = rep_curves[leader][:, n - 1], rep_curves[other][:, n - 1]
            a_lo, a_hi = cs.interval(a)
            b_lo, b_hi = cs.interval(b)
            d_lo, d_hi = cs.interval(a - b)
            rows.append(dict(
                method=other, n=n,
                leader_best=curves[leader][n - 1], leader_lo=a_lo, leader_hi=a_hi,
                other_best=curves[other][n - 1], other_lo=b_lo, other_hi=b_hi,
                diff=curves[leader][n - 1] - curves[other][n - 1], diff_lo=d_lo, diff_hi=d_hi,
                p_ahead=float(np.mean(a > b)),
                overlap=bool(a_lo <= b_hi and b_lo <= a_hi),
                separated=bool(d_lo > 0 or d_hi < 0),
            ))
    leaders = pd.DataFrame([
        dict(n=n, method=max(methods, key=lambda m: (curves[m][n - 1], -methods.index(m))),
             expected_best=max(curves[m][n - 1] for m in methods))
        for n in budgets])
    return MethodChoice(method=leader, budget=budget,
                        expected_best=float(curves[leader][budget - 1]),
                        comparisons=pd.DataFrame(rows), leaders=leaders)
