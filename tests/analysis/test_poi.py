import numpy as np
import pytest
from scipy.stats import trim_mean

from analysis.poi import iqm, poi_table, probability_of_improvement


def test_rliable_test_vector():
    x = [[1, 2], [2, 2], [1, 1], [2, 1]]
    y = [[1, 1], [2, 2], [3, 3]]
    assert probability_of_improvement(x, y) == pytest.approx(1 / 3)


def test_hand_computed_single_task():
    # pairs: (1,1) tie .5, (1,2) 0, (3,1) 1, (3,2) 1 -> 2.5 / 4
    assert probability_of_improvement([1, 3], [1, 2]) == pytest.approx(0.625)


def test_self_half_and_complement():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=17), rng.normal(size=11)
    assert probability_of_improvement(a, a) == pytest.approx(0.5)
    assert (probability_of_improvement(a, b) + probability_of_improvement(b, a)
            == pytest.approx(1.0))
    assert probability_of_improvement(a, b) == pytest.approx(
        probability_of_improvement(rng.permutation(a), rng.permutation(b)))


def test_iqm_is_trimmed_mean():
    x = np.array([0.0, 1, 2, 3, 4, 5, 6, 100])
    # trim 2 on each side -> mean(2, 3, 4, 5) = 3.5
    assert iqm(x) == pytest.approx(3.5)
    assert iqm(x) == pytest.approx(trim_mean(x, 0.25))


def test_poi_table(cs_default):
    t = poi_table(cs_default)
    same = t[t["method_a"] == t["method_b"]]
    np.testing.assert_allclose(same["poi"], 0.5)
    assert ((t["lo"] <= t["poi"] + 1e-12) & (t["poi"] <= t["hi"] + 1e-12)).all()
    ab = t.set_index(["method_a", "method_b"])["poi"]
    assert ab["dpo", "simpo"] + ab["simpo", "dpo"] == pytest.approx(1.0)
    point, _ = cs_default.effective("ln_dpo")
    assert ab["ln_dpo", "sft"] == pytest.approx(np.mean(point > cs_default.sft_point))
