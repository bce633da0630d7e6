"""Expected best-of-n: the score a practitioner can expect after n trials drawn from the grid.

For N config scores sorted ascending v(1) <= ... <= v(N):

- with replacement (Dodge et al. 2019, "Show Your Work"):
  ``E_n = sum_i v(i) [ (i/N)^n - ((i-1)/N)^n ]``,
  ``sd_n = sqrt( sum_i v(i)^2 [ (i/N)^n - ((i-1)/N)^n ] - E_n^2 )``;
- without replacement (Tang et al. 2020): ``U_n = sum_i v(i) C(i-1, n-1) / C(N, n)``; for
  n > N the whole grid has been tried and ``U_n = v(N)``.

A draw is one trial as a user would run it: a (config, seed) pair of the method's grid, so the
N values are the grid's trials (configs x seeds; with one seed per config, its configs). On a
full grid the grid is the population, so ``U_n`` is exact given the trials, and the uncertainty
is the seeds' and prompts' (the hierarchical bootstrap of ``analysis.scores``, which resamples
each config's seeds). Probability that the best of n beats a target t, with K of the N trials at
or below t: ``1 - (K/N)^n`` with replacement, ``1 - C(K, n)/C(N, n)`` without. Failed and
diverged trials enter at the failure floor, i.e. as trials that never beat anything.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import gammaln

from analysis.scores import ConfigScores
from harness.schema import below_sft


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    n, k = np.broadcast_arrays(np.asarray(n, float), np.asarray(k, float))
    out = np.full(n.shape, -np.inf)
    ok = (k >= 0) & (k <= n)
    out[ok] = gammaln(n[ok] + 1) - gammaln(k[ok] + 1) - gammaln(n[ok] - k[ok] + 1)
    return out


def expected_max_weights(n_configs: int, n_max: int, replace: bool) -> np.ndarray:
    """(n_max, N) weights w[n-1, i-1] of the i-th smallest score in the best of n draws."""
    N = n_configs
    i = np.arange(1, N + 1, dtype=float)[None, :]
    n = np.arange(1, n_max + 1, dtype=float)[:, None]
    if replace:
        return (i / N) ** n - ((i - 1) / N) ** n
    with np.errstate(invalid="ignore"):  # n > N: -inf - -inf, overwritten below
        w = np.exp(_log_comb(i - 1, n - 1) - _log_comb(np.full_like(n, N), n))
    beyond = n[:, 0] > N  # the grid is exhausted: the best config for sure
    w[beyond] = 0.0
    w[beyond, -1] = 1.0
    return w


def expected_max_curve(values, n_max: int, replace: bool = False) -> np.ndarray:
    """Expected best of n = 1..n_max draws from ``values`` (..., N) -> (..., n_max)."""
    values = np.sort(np.asarray(values, dtype=float), axis=-1)
    w = expected_max_weights(values.shape[-1], n_max, replace)
    return values @ w.T


def expected_max(values, n: int, replace: bool = False) -> float:
    """Expected best of ``n`` draws from the 1-D ``values``."""
    return float(expected_max_curve(values, n, replace)[..., n - 1])


def expected_max_sd(values, n: int) -> float:
    """Standard deviation of the best of ``n`` draws with replacement."""
    v = np.sort(np.asarray(values, dtype=float))
    w = expected_max_weights(v.size, n, replace=True)[n - 1]
    mean = float(v @ w)
    return math.sqrt(max(0.0, float((v**2) @ w) - mean**2))


def prob_beat(values, target, n: int, replace: bool = False) -> np.ndarray:
    """P(best of ``n`` draws from ``values`` (..., N) > ``target`` (...))."""
    values = np.asarray(values, dtype=float)
    N = values.shape[-1]
    K = below_sft(values, np.asarray(target, float)[..., None]).sum(axis=-1)
    if replace:
        return 1.0 - (K / N) ** n
    if n > N:
        return np.where(K < N, 1.0, 0.0)
    return 1.0 - np.exp(_log_comb(K, np.full_like(K, n)) - _log_comb(N, n))


def trials_to_beat(values, target, prob: float = 0.95, replace: bool = False) -> np.ndarray:
    """Smallest n with P(best of n > target) >= ``prob``; NaN when no n reaches it.

    ``values`` (..., N), ``target`` (...). Without replacement n <= N; with replacement
    n = ceil(log(1 - prob) / log(K/N)).
    """
    values = np.asarray(values, dtype=float)
    N = values.shape[-1]
    K = below_sft(values, np.asarray(target, float)[..., None]).sum(axis=-1)
    if replace:
        q = K / N
        with np.errstate(divide="ignore"):
            n = np.ceil(np.log(1.0 - prob) / np.log(np.where(q > 0, q, 0.5)) - 1e-12)
        return np.where(q == 0, 1.0, np.where(q >= 1, np.nan, n))
    out = np.full(K.shape, np.nan)
    for n in range(N, 0, -1):  # the smallest qualifying n wins
        p = 1.0 - np.exp(_log_comb(K, np.full_like(K, n)) - _log_comb(N, n))
        out = np.where(p >= prob - 1e-12, float(n), out)
    return out


def budget_curves(cs: ConfigScores, n_max: int | None = None,
                  relative: bool = False) -> pd.DataFrame:
    """Expected best-of-n per method, both sampling schemes, with prompt-bootstrap intervals.

    Columns: method, n, replace, estimate, lo, hi, n_configs, n_pool (trials drawn from),
    relative. ``n_max`` defaults to the largest pool (so every method's curve reaches its own
    pool size). ``relative=True`` subtracts the SFT model's mean score on the same prompts (per
    replicate): E_n(v - s) = E_n(v) - s, and the interval then leaves out the prompt-set
    difficulty that every model shares.
    """
    methods = cs.method_list
    if n_max is None:
        n_max = max(cs.trial_index(m).size for m in methods)
    rows = []
    for m in methods:
        point, reps = cs.effective_trials(m)
        n_configs = cs.index(m).size
        if relative:
            point, reps = point - cs.sft_point, reps - cs.sft_reps[:, None]
        for replace in (False, True):
            est = expected_max_curve(point, n_max, replace)
            rep_curves = expected_max_curve(reps, n_max, replace)
            lo, hi = cs.interval(rep_curves)
            for n in range(1, n_max + 1):
                rows.append(dict(method=m, n=n, replace=replace, estimate=est[n - 1],
                                 lo=lo[n - 1], hi=hi[n - 1], n_configs=n_configs,
                                 n_pool=point.size, relative=relative))
    return pd.DataFrame(rows)


def budget_table(cs: ConfigScores, budgets=(1, 3, 5, 10), replace: bool = False,
                 target: float | None = None) -> pd.DataFrame:
    """Per method and budget n: expected best score (with interval) and the risk of ending at or
    below the SFT model (or ``target``): ``1 - prob_beat``, with interval.

    Columns: method, n, n_configs, n_pool, exhausted (n > pool size, without replacement),
    expected_best, expected_best_lo, expected_best_hi, risk_below, risk_below_lo, risk_below_hi.
    """
    rows = []
    t_point = cs.sft_point if target is None else target
    t_reps = cs.sft_reps if target is None else np.full(cs.n_boot, target)
    n_max = max(budgets)
    for m in cs.method_list:
        point, reps = cs.effective_trials(m)
        est = expected_max_curve(point, n_max, replace)
        rep_curves = expected_max_curve(reps, n_max, replace)
        lo, hi = cs.interval(rep_curves)
        for n in budgets:
            risk = 1.0 - float(prob_beat(point, t_point, n, replace))
            risk_reps = 1.0 - prob_beat(reps, t_reps, n, replace)
            r_lo, r_hi = cs.interval(risk_reps)
            rows.append(dict(
                method=m, n=n, n_configs=cs.index(m).size, n_pool=point.size,
                exhausted=(not replace and n > point.size),
                expected_best=est[n - 1], expected_best_lo=lo[n - 1], expected_best_hi=hi[n - 1],
                risk_below=risk, risk_below_lo=float(r_lo), risk_below_hi=float(r_hi),
            ))
    return pd.DataFrame(rows)


def trials_to_beat_table(cs: ConfigScores, prob: float = 0.95, replace: bool = False,
                         target: float | None = None) -> pd.DataFrame:
    """Per method: trials needed to beat SFT (or ``target``) with probability ``prob``.

    Columns: method, n_configs, n_pool, trials, trials_lo, trials_hi (NaN: no budget reaches
    ``prob``; the interval bounds use NaN as +infinity).
    """
    t_point = cs.sft_point if target is None else target
    t_reps = cs.sft_reps if target is None else np.full(cs.n_boot, target)
    rows = []
    for m in cs.method_list:
        point, reps = cs.effective_trials(m)
        est = float(trials_to_beat(point, t_point, prob, replace))
        rep = trials_to_beat(reps, t_reps, prob, replace)
        lo, hi = cs.interval(np.where(np.isnan(rep), np.inf, rep), method="inverted_cdf")
        rows.append(dict(method=m, n_configs=cs.index(m).size, n_pool=point.size, trials=est,
                         trials_lo=float(lo) if np.isfinite(lo) else np.nan,
                         trials_hi=float(hi) if np.isfinite(hi) else np.nan))
    return pd.DataFrame(rows)
