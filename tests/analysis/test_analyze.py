import numpy as np
import pytest

from analysis.analyze import analyze

INTERVALS = [  # (table, estimate, lo, hi)
    ("curves", "estimate", "lo", "hi"), ("curves_gain", "estimate", "lo", "hi"),
    ("budgets", "expected_best", "expected_best_lo", "expected_best_hi"),
    ("budgets", "risk_below", "risk_below_lo", "risk_below_hi"),
    ("poi", "poi", "lo", "hi"), ("h2h", "raw", "raw_lo", "raw_hi"), ("h2h", "lc", "lc_lo", "lc_hi"),
    ("elo", "elo", "lo", "hi"), ("performance", "iqm", "iqm_lo", "iqm_hi"),
    ("performance", "best", "best_lo", "best_hi"),
    ("performance", "share_below_sft", "share_below_sft_lo", "share_below_sft_hi"),
    ("starts", "neighbourhood", "neighbourhood_lo", "neighbourhood_hi"),
    ("configs", "score", "score_lo", "score_hi"),
]
SEEDED = INTERVALS + [("confirmation", "confirm", "confirm_lo", "confirm_hi"),
                      ("confirmation", "grid", "grid_lo", "grid_hi")]


@pytest.fixture(scope="module")
def a(study_edge):
    return analyze(study_edge, n_boot=100, seed=3, evaluators=["ped_anova"])


@pytest.fixture(scope="module")
def a_seeds(study_seeds):
    return analyze(study_seeds, n_boot=100, seed=3, evaluators=["ped_anova"])


@pytest.mark.parametrize("table,est,lo,hi", INTERVALS)
def test_bootstrap_intervals_contain_the_point_estimate(a, table, est, lo, hi):
    df = getattr(a, table).dropna(subset=[est])
    assert len(df)
    assert ((df[lo] <= df[est] + 1e-9) & (df[est] <= df[hi] + 1e-9)).all()


@pytest.mark.parametrize("table,est,lo,hi", SEEDED)
def test_hierarchical_intervals_contain_the_point_estimate(a_seeds, table, est, lo, hi):
    df = getattr(a_seeds, table).dropna(subset=[est])
    assert len(df)
    assert ((df[lo] <= df[est] + 1e-9) & (df[est] <= df[hi] + 1e-9)).all()


def test_every_method_and_trial_is_accounted_for(a, study_edge):
    assert list(a.performance["method"]) == study_edge.methods
    assert a.performance["n_trials"].sum() == len(study_edge.trials)
    assert len(a.configs) == len(study_edge.trials)
    assert a.options["n_boot"] == 100 and a.cs.n_boot == 100
    np.testing.assert_array_equal(a.cs.weights.sum(axis=1), len(study_edge.prompt_ids))


def test_grid_statistics_use_grid_rows_only(a_seeds, study_seeds):
    """Confirmation rows never enter budget curves, distributions or the variance table."""
    g = study_seeds.grid
    assert a_seeds.performance["n_trials"].sum() == len(g) < len(study_seeds.trials)
    assert set(a_seeds.cs.trial_ids) == set(g["trial_id"])
    assert a_seeds.budgets["n_pool"].sum() == len(g) * len(a_seeds.options["budgets"])
    assert a_seeds.confirmed and (a_seeds.confirmation["n_confirm"] > 0).any()


def test_kl_summary(a_seeds, results_old):
    from analysis.load import load_study

    assert (a_seeds.kl["share_negative"] == 0).all()  # the exact KL is never negative
    assert (a_seeds.kl["share_negative_sample"] > 0).any()
    old = analyze(load_study(results_old), n_boot=20, evaluators=["ped_anova"])
    assert (old.kl["share_negative"] > 0).any() and old.kl["mean_kl_sample"].isna().all()
