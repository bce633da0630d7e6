"""Every statistic of a study in one object: the single computation path behind the report.

``analyze(study)`` calls the package functions once each, on one shared hierarchical bootstrap
(seeds and prompts), and keeps their tables; the report, its figures and the notebooks read
from it, so a number in the report is exactly what the function that defines it returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.breakdown import breakdown_table
from analysis.compute import ComputeBudget, study_compute
from analysis.confirm import confirmation_table, has_confirmations
from analysis.edges import edge_warnings
from analysis.expected_max import budget_curves, budget_table, trials_to_beat_table
from analysis.headtohead import elo_table, head_to_head, missing_models
from analysis.importance import importance_table
from analysis.kl import kl_summary
from analysis.load import Study
from analysis.performance import axis_columns, config_table, performance_table
from analysis.poi import poi_table
from analysis.recommend import MethodChoice, choose_method, search_ranges, start_configs
from analysis.scores import ConfigScores, config_scores
from analysis.sensitivity import sensitivity_params
from analysis.style import Palette, method_palette
from analysis.tables import best_config_table, best_configs, head_to_head_table
from analysis.topk import DEFAULT_KS, representatives, top_k_counts, top_k_samples
from analysis.variance import seed_table, variance_table

BUDGETS = (1, 3, 5, 10)


def shown_budgets(cs: ConfigScores, budgets=BUDGETS, decision_budget: int = 3) -> tuple:
    """The budgets of the budget table: those within the largest pool of trials (a larger one
    only repeats every grid's best), that pool's size when a requested budget exceeds it (so
    the table ends where the budget figure's axis ends), and the decision budget (the verdict
    reads it; the report shows no column beyond the largest pool)."""
    pool = max(cs.trial_index(m).size for m in cs.method_list)
    keep = {n for n in budgets if n <= pool}
    if max(budgets) > pool:
        keep.add(pool)
    return tuple(sorted(keep | {decision_budget}))


@dataclass(frozen=True)
class StudyAnalysis:
    study: Study
    cs: ConfigScores
    palette: Palette  # one colour and label per method
    configs: pd.DataFrame  # config_table
    performance: pd.DataFrame  # performance_table
    curves: pd.DataFrame  # budget_curves
    curves_gain: pd.DataFrame  # budget_curves(relative=True): gain over SFT
    budgets: pd.DataFrame  # budget_table (without replacement)
    to_beat: pd.DataFrame  # trials_to_beat_table
    poi: pd.DataFrame  # poi_table
    representatives: pd.DataFrame
    confirmation: pd.DataFrame  # confirmation_table
    confirmed: bool  # the study has completed confirmation runs
    h2h: pd.DataFrame  # head_to_head
    h2h_table: pd.DataFrame  # head_to_head_table
    missing: pd.DataFrame  # representatives without responses
    elo: pd.DataFrame | None
    topk_samples: pd.DataFrame
    topk_counts: pd.DataFrame
    best: pd.DataFrame  # best_configs
    table1_rel: pd.DataFrame
    table1_abs: pd.DataFrame
    importances: pd.DataFrame
    grid_axes: dict  # method -> its grid axes (names; derived ones left out)
    sensitivity_params: dict  # method -> axes with a sensitivity panel (derived included)
    starts: pd.DataFrame  # start_configs
    ranges: pd.DataFrame  # search_ranges
    edges: pd.DataFrame  # edge_warnings
    choice: MethodChoice
    variance: pd.DataFrame  # variance_table
    seeds: pd.DataFrame  # seed_table
    kl: pd.DataFrame  # kl_summary
    compute: ComputeBudget | None  # compute as a budget (analysis.compute); None: no costs
    options: dict
    breakdown: pd.DataFrame | None = None  # breakdown_table; None when the judge has none


def analyze(study: Study, n_boot: int = 1000, seed: int = 0, budgets=BUDGETS,
            ks=DEFAULT_KS, decision_budget: int = 3, evaluators=None,
            level: float = 0.95, cs: ConfigScores | None = None,
            budget_hours: float | None = None) -> StudyAnalysis:
    """Compute every table of the report for ``study`` (``n_boot`` bootstrap replicates,
    ``seed``; ``decision_budget``: the budget at which methods are ranked; ``cs``: the
    study's ``ConfigScores`` if already built with these options; ``budget_hours``: the
    compute budget of the compute view, default ``decision_budget`` median-cost trials)."""
    cs = cs or config_scores(study, n_boot=n_boot, seed=seed, level=level)
    budgets = shown_budgets(cs, budgets, decision_budget)
    configs = config_table(study, cs)
    axis_cols = axis_columns(study)
    grid_axes = {m: [a.name for a in study.info(m).varying(configs[configs["method"] == m])]
                 for m in study.methods}
    reps = representatives(configs, axis_cols)
    h2h = head_to_head(study, cs, reps)
    elo = elo_table(study, cs, reps) if len(h2h) else None
    best = best_configs(study, reps)
    starts = start_configs(configs, cs, grid_axes, axis_cols)
    return StudyAnalysis(
        study=study, cs=cs, palette=method_palette(study.methods, study.labels),
        configs=configs,
        performance=performance_table(study, cs),
        curves=budget_curves(cs), curves_gain=budget_curves(cs, relative=True),
        budgets=budget_table(cs, budgets),
        to_beat=trials_to_beat_table(cs),
        poi=poi_table(cs),
        representatives=reps,
        confirmation=confirmation_table(study, cs, reps), confirmed=has_confirmations(study),
        h2h=h2h, h2h_table=head_to_head_table(h2h), missing=missing_models(study, reps),
        elo=elo,
        topk_samples=top_k_samples(study, configs, ks), topk_counts=top_k_counts(configs, ks),
        best=best,
        table1_rel=best_config_table(best), table1_abs=best_config_table(best, absolute=True),
        importances=importance_table(study, evaluators, seed),
        grid_axes=grid_axes,
        sensitivity_params={m: sensitivity_params(study.info(m), configs)
                            for m in study.methods},
        starts=starts, ranges=search_ranges(configs, grid_axes),
        edges=edge_warnings(study, configs, reps, starts),
        choice=choose_method(cs, decision_budget, budgets),
        breakdown=breakdown_table(study.trials, study.samples, study.baseline),
        variance=variance_table(study), seeds=seed_table(study), kl=kl_summary(study),
        compute=study_compute(study, cs, budget_hours, decision_budget, seed=seed),
        options=dict(n_boot=n_boot, seed=seed, budgets=tuple(budgets), ks=tuple(ks),
                     decision_budget=decision_budget, level=level, budget_hours=budget_hours),
    )
