import numpy as np
import pytest

from analysis.expected_max import (budget_curves, budget_table, expected_max, expected_max_curve,
                                   expected_max_sd, expected_max_weights, prob_beat,
                                   trials_to_beat, trials_to_beat_table)

V = [0.1, 0.2, 0.3, 0.4]


def test_with_replacement_matches_facts_vectors():
    # Dodge et al. 2019: E_n = sum_i v(i) [(i/N)^n - ((i-1)/N)^n];
    # n=2: (.1*1 + .2*3 + .3*5 + .4*7)/16
    assert expected_max(V, 2, replace=True) == pytest.approx((0.1 + 0.6 + 1.5 + 2.8) / 16)
    got = expected_max_curve(V, 4, replace=True)
    np.testing.assert_allclose(got, [0.25, 0.3125, 0.34375, 0.361719], atol=1e-6)
    sds = [expected_max_sd(V, n) for n in range(1, 5)]
    np.testing.assert_allclose(sds, [0.111803, 0.092702, 0.074739, 0.061392], atol=1e-6)


def test_without_replacement_matches_facts_vectors():
    # U_2 = sum_i v(i) C(i-1, 1) / C(4, 2) = (.2*1 + .3*2 + .4*3) / 6 = 2/6
    assert expected_max(V, 2) == pytest.approx(2.0 / 6.0)
    np.testing.assert_allclose(expected_max_curve(V, 4), [0.25, 1 / 3, 0.375, 0.4], atol=1e-9)


def test_beyond_the_grid_is_the_grid_best():
    np.testing.assert_allclose(expected_max_curve(V, 7)[4:], [0.4, 0.4, 0.4])


def test_weights_are_distributions():
    for replace in (False, True):
        w = expected_max_weights(9, 12, replace)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        assert (w >= -1e-15).all()


def test_monotone_in_n_and_order_free():
    rng = np.random.default_rng(0)
    v = rng.normal(size=40)
    for replace in (False, True):
        c = expected_max_curve(v, 60, replace)
        assert np.all(np.diff(c) >= -1e-12)
        np.testing.assert_allclose(c, expected_max_curve(rng.permutation(v), 60, replace))
    assert expected_max_curve(v, 1)[0] == pytest.approx(v.mean())


def test_batched_rows_equal_single_rows():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(5, 7))
    batched = expected_max_curve(v, 7)
    for row, out in zip(v, batched):
        np.testing.assert_allclose(out, expected_max_curve(row, 7))


def test_prob_beat_and_trials_to_beat_by_hand():
    v = np.array(V)
    # two of four configs at or below 0.25, without replacement:
    # P(best of 2 > .25) = 1 - C(2,2)/C(4,2)
    assert prob_beat(v, 0.25, 2) == pytest.approx(1 - 1 / 6)
    assert prob_beat(v, 0.25, 3) == pytest.approx(1.0)  # only two can be below
    assert prob_beat(v, 0.25, 2, replace=True) == pytest.approx(1 - 0.5**2)
    assert trials_to_beat(v, 0.25) == 3  # n=2 gives 0.833 < 0.95
    # with replacement: (1/2)^n <= 0.05 first at n = 5 (0.03125); n = 4 gives 0.0625
    assert trials_to_beat(v, 0.25, replace=True) == 5
    assert np.isnan(trials_to_beat(v, 1.0))  # nothing beats 1.0
    assert trials_to_beat(v, 0.0) == 1


def test_budget_curves_bands_contain_estimate(cs_default):
    curves = budget_curves(cs_default)
    assert set(curves["method"]) == {"dpo", "ln_dpo", "simpo"}
    assert (curves["lo"] <= curves["estimate"] + 1e-12).all()
    assert (curves["estimate"] <= curves["hi"] + 1e-12).all()
    for (_, _), g in curves.groupby(["method", "replace"]):
        assert np.all(np.diff(g.sort_values("n")["estimate"].to_numpy()) >= -1e-12)


def test_relative_curves_shift_by_sft(cs_default):
    a = budget_curves(cs_default)
    r = budget_curves(cs_default, relative=True)
    np.testing.assert_allclose(r["estimate"], a["estimate"] - cs_default.sft_point)


def test_budget_table_matches_curve(cs_default):
    table = budget_table(cs_default, budgets=(1, 3))
    point, _ = cs_default.effective("dpo")
    row = table[(table["method"] == "dpo") & (table["n"] == 3)].iloc[0]
    assert row["expected_best"] == pytest.approx(expected_max(point, 3))
    share = np.mean(point <= cs_default.sft_point)
    row1 = table[(table["method"] == "dpo") & (table["n"] == 1)].iloc[0]
    assert row1["risk_below"] == pytest.approx(share)
    assert (table["risk_below_lo"] <= table["risk_below"] + 1e-12).all()


def test_trials_to_beat_table(cs_default):
    t = trials_to_beat_table(cs_default)
    assert list(t["method"]) == ["dpo", "ln_dpo", "simpo"]
    assert (t["trials"] >= 1).all()
