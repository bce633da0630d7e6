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


def test_one_seed_equals_the_prompt_bootstrap(study_default, cs_default):
    """Must-hold 1b: with one seed per config the hierarchical bootstrap is the plain prompt
    bootstrap, number for number (same seed, same replicates)."""
    cs = cs_default
    t = study_default.trials  # one seed: trials and configs coincide, in this order
    assert list(cs.config_ids) == list(t["trial_id"]) == list(cs.trial_ids)
    weights = prompt_weights(len(study_default.prompt_ids), cs.n_boot, seed=0)
    reps = replicate_means(study_default.matrix("score"), weights)
    np.testing.assert_array_equal(cs.weights, weights)
    np.testing.assert_array_equal(cs.reps, reps)
    np.testing.assert_array_equal(cs.trial_reps, reps)
    ok = (t["status"] == "ok").to_numpy()
    np.testing.assert_array_equal(cs.point[ok], study_default.matrix("score")[ok].mean(axis=1))
    np.testing.assert_array_equal(cs.effective_trials()[1], cs.effective()[1])
    assert cs.floor == failure_floor(cs.point, cs.sft_point)


def test_seed_draws_stay_within_each_config(cs_seeds):
    cs = cs_seeds
    assert cs.max_seeds == 3
    assert (cs.trial_config[cs.draws] == cs.trial_config[None, :]).all()
    assert len(np.unique(cs.draws[:, 0])) > 1  # the draws do vary
    point, reps = cs.effective()
    tpoint, treps = cs.effective_trials()
    for c in range(len(cs.config_ids)):
        idx = cs.config_trials(c)
        np.testing.assert_allclose(reps[:, c], treps[:, idx].mean(axis=1))
        np.testing.assert_allclose(point[c], tpoint[idx].mean())


@pytest.mark.parametrize("case", [
    dict(seed_var=0.09, prompt_var=0.5, noise_var=0.25),  # seeds dominate
    dict(seed_var=0.01, prompt_var=2.0, noise_var=0.25),  # prompts dominate
])
def test_interval_width_matches_the_analytic_value(case, component_factory, tmp_path):
    """Must-hold 1a: on a config with known seed variance (20 seeds, population variance
    exact) and known prompt variance (400 prompts), the 95% interval of its mean score is
    2 x 1.96 x the analytic standard error, within 10%."""
    from analysis.load import load_study

    path, known = component_factory(tmp_path / "w", axes={"beta": [0.1]},
                                    seeds=tuple(range(20)), n_prompts=400, interaction_var=0.0,
                                    **case)
    cs = config_scores(load_study(path), n_boot=2000, seed=1)
    lo, hi = cs.interval(cs.reps[:, 0])
    analytic = 2 * 1.959964 * known["sd_config_mean"]
    assert (hi - lo) == pytest.approx(analytic, rel=0.10)
    # the prompt part alone would be far too narrow when the seeds dominate: the seeds count
    prompt_only = 2 * 1.959964 * np.sqrt(case["prompt_var"] / 400)
    if case["seed_var"] > 0.05:
        assert hi - lo > 1.5 * prompt_only
