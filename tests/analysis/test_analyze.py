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
]


@pytest.fixture(scope="module")
def a(study_edge):
    return analyze(study_edge, n_boot=100, seed=3, evaluators=["ped_anova"])


@pytest.mark.parametrize("table,est,lo,hi", INTERVALS)
def test_bootstrap_intervals_contain_the_point_estimate(a, table, est, lo, hi):
    df = getattr(a, table).dropna(subset=[est])
    assert len(df)
    assert ((df[lo] <= df[est] + 1e-9) & (df[est] <= df[hi] + 1e-9)).all()


def test_every_method_and_trial_is_accounted_for(a, study_edge):
    assert list(a.performance["method"]) == study_edge.methods
    assert a.performance["n_trials"].sum() == len(study_edge.trials)
    assert len(a.configs) == len(study_edge.trials)
    assert a.options["n_boot"] == 100 and a.cs.n_boot == 100
    np.testing.assert_array_equal(a.cs.weights.sum(axis=1), len(study_edge.prompt_ids))
