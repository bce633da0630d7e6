import numpy as np
import pytest

from analysis.scores import config_scores, failure_floor, prompt_weights, replicate_means


def test_prompt_weights_are_resamples():
    w = prompt_weights(7, 50, seed=3)
    assert w.shape == (50, 7)
    assert (w.sum(axis=1) == 7).all()
    np.testing.assert_array_equal(w, prompt_weights(7, 50, seed=3))
    assert not np.array_equal(w, prompt_weights(7, 50, seed=4))


def test_replicate_means_equal_explicit_resample():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 5))
    m[1] = np.nan
    w = np.array([[2, 0, 1, 1, 1]])
    idx = np.array([0, 0, 2, 3, 4])
    got = replicate_means(m, w)
    assert got[0, 0] == pytest.approx(m[0, idx].mean())
    assert got[0, 2] == pytest.approx(m[2, idx].mean())
    assert np.isnan(got[0, 1])


def test_failure_floor_below_everything():
    v = np.array([[1.0, np.nan, 3.0]])
    # pool {1, 3, sft 0}: min 0 - 0.05 * (3 - 0) = -0.15
    assert failure_floor(v, np.array([0.0]))[0] == pytest.approx(-0.15)
    assert failure_floor(np.array([[2.0, 2.0]]))[0] == pytest.approx(1.95)


def test_config_scores(study_edge, cs_edge):
    cs = cs_edge
    ok = cs.ok
    assert (~ok).sum() == 5  # 3 failed + 2 diverged
    np.testing.assert_allclose(cs.point[ok], study_edge.trials["mean_score"][ok], atol=1e-9)
    assert cs.sft_point == pytest.approx(study_edge.sft_score)
    point, reps = cs.effective()
    assert (point[~ok] < np.nanmin(cs.point)).all()
    assert (point[~ok] < cs.sft_point).all()
    assert (reps[:, ~ok] < np.nanmin(cs.reps, axis=1, keepdims=True)).all()
    assert reps.shape == (cs.n_boot, len(point))


def test_same_seed_same_replicates(study_edge):
    a = config_scores(study_edge, n_boot=20, seed=5)
    b = config_scores(study_edge, n_boot=20, seed=5)
    np.testing.assert_array_equal(a.reps, b.reps)
