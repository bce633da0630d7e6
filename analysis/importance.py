"""Hyperparameter importance with Optuna over a finished grid.

Each grid trial of a method (every seed of every config) becomes a finished Optuna trial
(``optuna.trial.create_trial``) with the method's grid axes (``analysis.methods``; derived axes
left out) as parameters and ``mean_score`` as the value; failed/diverged trials enter with state
FAIL, which Optuna's evaluators ignore (their count is reported beside the importances). An
axis registered with scale "log" gets a log-scaled distribution. Evaluators
(``optuna.importance``):

- ``ped_anova``: PED-ANOVA (Watanabe et al., IJCAI 2023): which parameters matter for reaching
  the top ``target_quantile`` of trials, ``max(0.1, 5 / n_complete)`` (it needs >= 5 trials
  in the top quantile); needs more than 5 completed trials.
- ``fanova``: fANOVA (Hutter et al., ICML 2014), a random-forest variance decomposition; needs
  scikit-learn, seeded.

Importances are normalised to sum to 1 per evaluator.
"""

from __future__ import annotations

import importlib.util
import math
import warnings

import pandas as pd

from analysis.load import Study
from analysis.methods import Axis
from harness.schema import STATUS_OK

MIN_COMPLETE_PED = 6


def available_evaluators() -> list[str]:
    """``ped_anova`` always; ``fanova`` when scikit-learn is installed."""
    return ["ped_anova"] + (["fanova"] if importlib.util.find_spec("sklearn") else [])


def _distribution(axis: Axis, values):
    import optuna

    low, high = float(min(values)), float(max(values))
    return optuna.distributions.FloatDistribution(low, high, log=axis.log and low > 0)


def grid_study(trials: pd.DataFrame, axes: list[Axis], metric: str = "mean_score"):
    """An Optuna study (maximize) holding one method's ``trials`` as finished trials with
    ``axes`` as parameters."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {a.name: _distribution(a, trials[a.name].dropna().unique()) for a in axes}
    study = optuna.create_study(direction="maximize")
    for row in trials.to_dict("records"):
        params = {a.name: float(row[a.name]) for a in axes}
        ok = row["status"] == STATUS_OK and not math.isnan(row[metric])
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions=dists,
            value=float(row[metric]) if ok else None,
            state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL,
        ))
    return study


def param_importances(study: Study, method: str, evaluators=None, seed: int = 0,
                      metric: str = "mean_score") -> pd.DataFrame:
    """Importance of each grid axis of ``method`` (its grid rows). Columns: method, evaluator,
    param, importance, n_complete, n_failed, note (why an evaluator was skipped; importance
    NaN)."""
    import optuna

    trials = study.method_trials(method)
    axis_objs = study.info(method).varying(trials)
    axes = [a.name for a in axis_objs]
    evaluators = available_evaluators() if evaluators is None else list(evaluators)
    n_complete = int((trials["status"] == STATUS_OK).sum())
    n_failed = len(trials) - n_complete
    base = dict(method=method, n_complete=n_complete, n_failed=n_failed)
    rows = []
    if not axes:
        return pd.DataFrame([dict(base, evaluator=e, param=None, importance=math.nan,
                                  note="a single config: nothing to attribute")
                             for e in evaluators])
    ostudy = grid_study(trials, axis_objs, metric)
    for name in evaluators:
        note = None
        if name == "ped_anova":
            if n_complete < MIN_COMPLETE_PED:
                note = f"PED-ANOVA needs >= {MIN_COMPLETE_PED} completed trials"
            else:
                q = max(0.1, 5.0 / n_complete)
                ev = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=q)
        elif name == "fanova":
            if importlib.util.find_spec("sklearn") is None:
                note = "fANOVA needs scikit-learn"
            elif n_complete < 2:
                note = "fANOVA needs >= 2 completed trials"
            else:
                ev = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        else:
            raise ValueError(f"unknown evaluator {name!r}; known: ped_anova, fanova")
        if note:
            rows += [dict(base, evaluator=name, param=a, importance=math.nan, note=note)
                     for a in axes]
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # experimental-API and constant-value warnings
            try:
                imp = optuna.importance.get_param_importances(ostudy, evaluator=ev, params=axes)
            except RuntimeError as e:  # fANOVA on a few trials: every tree has zero variance
                rows += [dict(base, evaluator=name, param=a, importance=math.nan,
                              note=f"{name}: {e}") for a in axes]
                continue
        rows += [dict(base, evaluator=name, param=a, importance=float(imp.get(a, 0.0)), note=None)
                 for a in axes]
    return pd.DataFrame(rows, columns=["method", "evaluator", "param", "importance",
                                       "n_complete", "n_failed", "note"])


def importance_table(study: Study, evaluators=None, seed: int = 0) -> pd.DataFrame:
    """``param_importances`` of every method, stacked."""
    return pd.concat([param_importances(study, m, evaluators, seed) for m in study.methods],
                     ignore_index=True)
