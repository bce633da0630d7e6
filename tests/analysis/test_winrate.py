import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from analysis.winrate import (LC_L2, bradley_terry, bradley_terry_from_counts, lc_win_rate,
                              outcomes, win_tie_loss)


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, n), rng.normal(0.3, 1, n), rng.integers(20, 200, n).astype(float),
            rng.integers(20, 120, n).astype(float))


def test_win_tie_loss_by_hand():
    a = np.array([1.0, 2.0, 3.0, 0.0])
    b = np.array([0.0, 2.0, 4.0, -1.0])
    r = win_tie_loss(a, b)
    assert (r["win"][0], r["tie"][0], r["loss"][0]) == (0.5, 0.25, 0.25)
    assert r["raw"][0] == pytest.approx(100 * (0.5 + 0.125))
    np.testing.assert_array_equal(outcomes(a, b), [1, 0.5, 0, 1])


def test_weights_equal_duplicated_prompts():
    sa, sb, la, lb = _data(n=40)
    w = np.random.default_rng(1).integers(0, 3, 40)
    rep = np.repeat(np.arange(40), w)
    lc_w = lc_win_rate(sa, sb, la, lb, weights=w[None, :])[0]
    lc_d = lc_win_rate(sa[rep], sb[rep], la[rep], lb[rep])[0]
    assert lc_w == pytest.approx(lc_d, abs=1e-6)
    assert win_tie_loss(sa, sb, w[None, :])["raw"][0] == pytest.approx(
        win_tie_loss(sa[rep], sb[rep])["raw"][0])


def test_lc_matches_scipy_fit():
    sa, sb, la, lb = _data()
    lc, theta, phi = lc_win_rate(sa, sb, la, lb, return_coef=True)
    y = outcomes(sa, sb)
    diff = la - lb
    d = np.tanh(diff / diff.std())

    def nll(c):
        z = c[0] + c[1] * d
        return -(y * np.log(expit(z)) + (1 - y) * np.log(expit(-z))).sum() + 0.5 * LC_L2 * (c @ c)

    ref = minimize(nll, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10}).x
    assert theta[0] == pytest.approx(ref[0], abs=1e-5)
    assert phi[0] == pytest.approx(ref[1], abs=1e-5)
    assert lc[0] == pytest.approx(100 * expit(ref[0]), abs=1e-4)


def test_lc_antisymmetry_and_identity():
    sa, sb, la, lb = _data(seed=3)
    ab = lc_win_rate(sa, sb, la, lb)[0]
    ba = lc_win_rate(sb, sa, lb, la)[0]
    assert ab + ba == pytest.approx(100.0, abs=1e-8)
    assert lc_win_rate(sa, sa, la, la)[0] == pytest.approx(50.0)


def test_lc_near_50_when_reward_is_only_length():
    rng = np.random.default_rng(5)
    n = 4000
    la, lb = rng.normal(150, 50, n), rng.normal(100, 50, n)
    sa, sb = la + rng.normal(0, 10, n), lb + rng.normal(0, 10, n)
    raw = win_tie_loss(sa, sb)["raw"][0]
    assert raw > 70  # A is longer, so it wins raw
    assert lc_win_rate(sa, sb, la, lb)[0] == pytest.approx(50.0, abs=5.0)


def test_lc_near_raw_when_length_carries_no_signal():
    rng = np.random.default_rng(6)
    n = 4000
    sa, sb = rng.normal(0.5, 1, n), rng.normal(0, 1, n)
    la, lb = rng.normal(100, 30, n), rng.normal(100, 30, n)
    assert lc_win_rate(sa, sb, la, lb)[0] == pytest.approx(
        win_tie_loss(sa, sb)["raw"][0], abs=2.0)


def test_lc_finite_when_one_side_always_wins():
    sa, sb, la, lb = _data()
    lc = lc_win_rate(sa + 100, sb, la, lb)[0]
    assert 99 < lc <= 100


def test_bradley_terry_three_to_one_is_190_elo():
    # A beats B on 3 of 4 prompts: s_A - s_B = ln 3, Elo gap = 400 log10(3) = 190.85
    scores = np.array([[1.0, 1, 1, 0], [0.0, 0, 0, 1]])
    elo = bradley_terry(scores, anchor=1, l2=0.0)[0]
    assert elo[1] == 1000.0
    assert elo[0] - elo[1] == pytest.approx(400 * np.log10(3), abs=1e-6)


def test_bradley_terry_counts_and_anchor():
    # three models in a transitive 2:1 chain; anchor model 2
    pairs = [(0, 1), (1, 2), (0, 2)]
    wins = np.array([[2.0, 2.0, 4.0]])
    meet = np.array([[3.0, 3.0, 5.0]])
    elo = bradley_terry_from_counts(3, pairs, wins, meet, anchor=2, l2=0.0)[0]
    assert elo[2] == 1000.0
    assert elo[0] > elo[1] > elo[2]
    # the MLE's gradient is zero: observed wins equal expected wins per model
    s = (elo - 1000) * np.log(10) / 400
    exp_w0 = 3 * expit(s[0] - s[1]) + 5 * expit(s[0] - s[2])
    assert exp_w0 == pytest.approx(6.0, abs=1e-6)
