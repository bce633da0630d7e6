"""Compute as a budget: the expected best score a user gets for H hours of compute, per method.

The trial-count budget (``analysis.expected_max``) treats every trial as equally expensive. They
are not: a SimPO trial needs no reference model, epochs multiply the training time, long
responses take longer to generate and judge. Here the budget is compute.

**Cost of a trial** (``trial_costs``): its measured cost from trials.parquet, in one unit per
study: GPU-hours (``gpu_hours`` = wall seconds x GPUs held / 3600) when the study used GPUs
(any grid trial with ``gpu_hours > 0``), else wall-clock hours (``time_total_s / 3600``). Failed
and diverged trials cost what they ran. A trial without a recorded cost gets its method's
median cost (the study's median when the method has none), and is counted as imputed.

**The user's draw** (``compute_curves``). A user with budget H runs trials drawn at random,
without replacement, from the method's pool (the grid's (config, seed) pairs, as in
``analysis.expected_max``), one after the other, until the budget is spent; the trial running
when it runs out is lost. For a random order o of the pool the trials that finish are the
longest prefix whose summed cost fits, ``K_o(H) = #{k : c_o1 + ... + c_ok <= H}``, and the
outcome is the best score among them, ``M_o(H) = max(v_o1, ..., v_oK)``; when no trial
finishes (H below the first drawn trial's cost) the outcome is the failure floor, like a
failed trial: nothing was gained. Then

    E(H) = E_o[M_o(H)],   risk(H) = P_o(M_o(H) <= s)   (s: the SFT model's mean score),

estimated by Monte Carlo over ``n_orders`` random orders per method (``numpy`` generator seeded
by ``seed`` and the method's name, so adding a method changes no other's orders; the same
orders for every budget, so the value at H does not depend on which other budgets are asked
for, and E(H) never decreases with H). With equal costs c, ``K = floor(H / c)`` and E(H) is
the trial-count ``U_n`` of Tang et al. (2020) at n = K. With unequal costs a method whose
trials are cheaper finishes more of them; an exact formula would sum over the pool's orders,
which is why this is sampled. ``mc_se`` is the Monte Carlo standard error of the estimate.
(A user who skips a drawn trial that no longer fits and draws another, first fit, is not
modelled: with it more budget can lower the expected best, because one dear trial then
crowds out several cheap ones.)

**Intervals** resample what the trial-count budget resamples (``analysis.scores``: the eval
prompts, and each config's training seeds), with the same orders in every replicate; costs
are the measured ones and are not resampled (a seed-resampled slot keeps its trial's cost).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.load import ResultsError, Study
from analysis.scores import ConfigScores

UNIT_GPU = "GPU-hours"
UNIT_WALL = "hours"
ORDER_STREAM = 0xC057  # the orders' random stream, separate from the bootstrap's
N_ORDERS = 1000
BLOCK = 4_000_000  # elements of the (B, orders, T) arrays the replicates work on at once
GRID_POINTS = 40
TABLE_TRIALS = (3, 5, 10)  # the table's budgets, in median trial costs


def trial_costs(study: Study, trial_ids) -> pd.DataFrame:
    """Measured cost of each trial of ``trial_ids`` (in that order).

    Columns: trial_id, method, status, cost, unit (``UNIT_GPU`` or ``UNIT_WALL``, one per
    study), imputed (no cost recorded: the method's median). Raises ``ResultsError`` when no
    trial has a cost."""
    rows = study.trials.set_index("trial_id").loc[list(trial_ids)]
    grid = study.grid
    gpu = pd.to_numeric(grid.get("gpu_hours"), errors="coerce") if "gpu_hours" in grid else None
    if gpu is not None and (gpu > 0).any():
        unit, cost = UNIT_GPU, pd.to_numeric(rows["gpu_hours"], errors="coerce")
    else:
        unit, cost = UNIT_WALL, pd.to_numeric(rows["time_total_s"], errors="coerce") / 3600.0
    cost = cost.where(cost >= 0)
    if cost.isna().all():
        raise ResultsError(f"{study.path / 'trials.parquet'}: no trial has a recorded cost "
                           "(time_total_s or gpu_hours); the compute budget needs one")
    imputed = cost.isna()
    by_method = cost.groupby(rows["method"]).transform("median")
    cost = cost.fillna(by_method).fillna(float(cost.median()))
    return pd.DataFrame({"trial_id": list(trial_ids), "method": rows["method"].to_numpy(),
                         "status": rows["status"].to_numpy(), "cost": cost.to_numpy(float),
                         "unit": unit, "imputed": imputed.to_numpy(bool)})


def hours_grid(costs: pd.DataFrame, n: int = GRID_POINTS) -> np.ndarray:
    """``n`` budgets, evenly spaced on a log scale from the smallest budget at which some method
    always finishes a trial (its dearest trial's cost) to the cost of the largest method pool
    (all of a method's trials): the x axis of the compute figure."""
    by_method = costs.groupby("method")["cost"]
    lo = max(float(by_method.max().min()), 1.0 / 3600.0)
    hi = max(float(by_method.sum().max()), lo * 1.0001)
    return np.geomspace(lo, hi, n)


def _orders(method: str, n_trials: int, n_orders: int, seed: int) -> np.ndarray:
    """(n_orders, n_trials) random permutations of the method's pool."""
    digest = int.from_bytes(hashlib.sha256(method.encode()).digest()[:4], "little")
    rng = np.random.default_rng([seed, ORDER_STREAM, digest])
    return np.argsort(rng.random((n_orders, n_trials)), axis=1, kind="stable")


def afforded(costs: np.ndarray, orders: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """(R, H) number of trials that finish: the longest prefix of each order (R, T) whose
    summed ``costs`` (T,) is <= each budget of ``hours`` (H,)."""
    cum = np.cumsum(costs[orders], axis=1)
    # a relative tolerance so a budget equal to a sum of costs affords it despite rounding
    return (cum[:, :, None] <= hours[None, None, :] * (1 + 1e-9)).sum(axis=1)


def best_afforded(values: np.ndarray, orders: np.ndarray, k: np.ndarray,
                  empty: np.ndarray) -> np.ndarray:
    """Best of the first ``k`` trials of each order: ``values`` (B, T), ``orders`` (R, T),
    ``k`` (R, H) -> (B, R, H); ``empty`` (B,) where k == 0."""
    prefix = np.maximum.accumulate(values[:, orders], axis=2)  # (B, R, T)
    idx = np.broadcast_to(np.maximum(k - 1, 0)[None], (values.shape[0],) + k.shape)
    best = np.take_along_axis(prefix, idx, axis=2)
    return np.where(k[None] == 0, empty[:, None, None], best)


def compute_curves(cs: ConfigScores, costs: pd.DataFrame, hours=None,
                   n_orders: int = N_ORDERS, seed: int = 0) -> pd.DataFrame:
    """Expected best score and risk of ending at or below SFT for a compute budget, per method
    (module docstring). ``costs``: ``trial_costs`` of ``cs.trial_ids``; ``hours``: budgets in
    the costs' unit (default ``hours_grid``).

    Columns: method, hours, unit, estimate, lo, hi, mc_se (Monte Carlo standard error of the
    estimate), risk_below, risk_below_lo, risk_below_hi, mean_trials (expected number of trials
    that finish), mean_spent (expected compute of the finished trials; the rest of the budget
    went into the lost one), p_none (share of orders in which no trial finishes), n_pool,
    pool_cost (cost of all the method's trials), min_cost, max_cost (its cheapest and dearest
    trial), n_orders.
    """
    if list(costs["trial_id"]) != list(cs.trial_ids):
        raise ValueError("costs must list cs.trial_ids in order")
    hours = hours_grid(costs) if hours is None else np.atleast_1d(np.asarray(hours, float))
    all_cost = costs["cost"].to_numpy(float)
    unit = str(costs["unit"].iloc[0])
    rows = []
    for m in cs.method_list:
        idx = cs.trial_index(m)
        point, reps = cs.effective_trials(m)
        c = all_cost[idx]
        orders = _orders(m, idx.size, n_orders, seed)
        n_run = afforded(c, orders, hours)  # (R, H)
        best = best_afforded(point[None], orders, n_run, np.array([cs.floor]))[0]  # (R, H)
        spent = np.take_along_axis(np.c_[np.zeros(n_orders), np.cumsum(c[orders], axis=1)],
                                   n_run, axis=1)  # (R, H) compute of the finished trials
        est = best.mean(axis=0)
        mc_se = best.std(axis=0, ddof=1) / np.sqrt(n_orders) if n_orders > 1 else np.nan * est
        risk = (best <= cs.sft_point).mean(axis=0)
        rep_sum = np.zeros((cs.n_boot, hours.size))
        rep_below = np.zeros((cs.n_boot, hours.size))
        step = max(1, BLOCK // (cs.n_boot * max(idx.size, hours.size)))
        for s in range(0, n_orders, step):
            b = best_afforded(reps, orders[s:s + step], n_run[s:s + step], cs.floor_reps)
            rep_sum += b.sum(axis=1)
            rep_below += (b <= cs.sft_reps[:, None, None]).sum(axis=1)
        lo, hi = cs.interval(rep_sum / n_orders)
        r_lo, r_hi = cs.interval(rep_below / n_orders)
        for h in range(hours.size):
            rows.append(dict(method=m, hours=float(hours[h]), unit=unit, estimate=float(est[h]),
                             lo=float(lo[h]), hi=float(hi[h]), mc_se=float(mc_se[h]),
                             risk_below=float(risk[h]), risk_below_lo=float(r_lo[h]),
                             risk_below_hi=float(r_hi[h]), mean_trials=float(n_run[:, h].mean()),
                             mean_spent=float(spent[:, h].mean()),
                             p_none=float((n_run[:, h] == 0).mean()), n_pool=int(idx.size),
                             pool_cost=float(c.sum()), min_cost=float(c.min()),
                             max_cost=float(c.max()),
                             n_orders=int(n_orders)))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ComputeBudget:
    """The compute-budget view of a study: every trial's cost, the curves over ``hours_grid``,
    and the table at ``table_hours`` (which include ``budget_hours``, the user's budget, or
    ``budget_trials`` trials at the study's median trial cost when none was given)."""

    costs: pd.DataFrame  # trial_costs
    curves: pd.DataFrame  # compute_curves over hours_grid
    table: pd.DataFrame  # compute_curves at table_hours
    unit: str
    budget_hours: float  # the budget the report leads with
    given: bool  # budget_hours came from the user (else the median-cost default)
    median_cost: float  # median cost of one grid trial
    table_hours: tuple


def compute_budget(cs: ConfigScores, costs: pd.DataFrame, budget_hours: float | None = None,
                   budget_trials: int = 3, budgets=TABLE_TRIALS, n_orders: int = N_ORDERS,
                   seed: int = 0) -> ComputeBudget:
    """Curves and table (``compute_curves``) of ``cs`` with ``costs``. The table's budgets: the
    cost of ``budgets`` trials at the median trial cost, and ``budget_hours`` (default: the cost
    of ``budget_trials`` such trials). The default ``budgets`` leave out one trial's cost: at
    that budget about half the orders draw a dearer trial first and finish nothing."""
    median = float(np.median(costs["cost"]))
    given = budget_hours is not None
    if given and not budget_hours > 0:
        raise ValueError(f"budget_hours must be > 0, got {budget_hours}")
    h = float(budget_hours) if given else budget_trials * median
    table_hours = tuple(sorted({*(n * median for n in budgets), h}))
    return ComputeBudget(
        costs=costs,
        curves=compute_curves(cs, costs, n_orders=n_orders, seed=seed),
        table=compute_curves(cs, costs, table_hours, n_orders=n_orders, seed=seed),
        unit=str(costs["unit"].iloc[0]), budget_hours=h, given=given, median_cost=median,
        table_hours=table_hours)


def study_compute(study: Study, cs: ConfigScores, budget_hours: float | None = None,
                  budget_trials: int = 3, seed: int = 0) -> ComputeBudget | None:
    """``compute_budget`` of ``study``'s grid, or None when no trial has a recorded cost
    (results written by hand or by another tool): the compute view is then left out, unless a
    ``budget_hours`` was asked for, which is an error (``ResultsError``)."""
    try:
        costs = trial_costs(study, cs.trial_ids)
    except ResultsError:
        if budget_hours is not None:
            raise
        return None
    return compute_budget(cs, costs, budget_hours, budget_trials, seed=seed)
