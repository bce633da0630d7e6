import numpy as np
import pandas as pd
import pytest

from analysis.recommend import (choose_method, neighbourhood_scores, neighbourhoods, search_ranges,
                                start_configs)
from analysis.scores import ConfigScores

BETAS = [0.01, 0.1, 1.0]
LRS = [1e-7, 1e-6, 1e-5]
AXES = ["beta", "learning_rate"]
# a lone spike at (0.01, 1e-7) surrounded by poor configs; a broad good region at large beta
SCORES = {(0, 0): 2.0, (0, 1): -1.0, (1, 0): -1.0, (0, 2): 0.0, (1, 1): 0.5, (1, 2): 1.0,
          (2, 0): 0.0, (2, 1): 1.0, (2, 2): 1.2}


def _configs(method="dpo", shift=0.0):
    rows = []
    for (i, j), s in sorted(SCORES.items()):
        rows.append(dict(method=method, config_id=f"{method}-{i}{j}", trial_id=f"{method}-{i}{j}",
                         beta=BETAS[i], learning_rate=LRS[j], epochs=1, status="ok", n_seeds=1,
                         score=s + shift, score_lo=s + shift - 0.1, score_hi=s + shift + 0.1))
    return pd.DataFrame(rows)


def _cs(configs, n_boot=30, noise=0.05, seed=0):
    """One trial per config: the config and trial arrays coincide."""
    rng = np.random.default_rng(seed)
    point = configs["score"].to_numpy(float)
    reps = point[None, :] + rng.normal(0, noise, (n_boot, point.size))
    n = point.size
    ids = configs["trial_id"].to_numpy(object)
    methods = configs["method"].to_numpy(object)
    status = configs["status"].to_numpy(object)
    return ConfigScores(config_ids=configs["config_id"].to_numpy(object), methods=methods,
                        status=status, n_seeds=np.ones(n, int), point=point, reps=reps,
                        trial_ids=ids, trial_methods=methods, trial_status=status,
                        trial_config=np.arange(n), trial_point=point, trial_reps=reps,
                        draws=np.broadcast_to(np.arange(n), (n_boot, n)),
                        sft_point=0.0, sft_reps=np.zeros(n_boot),
                        weights=np.ones((n_boot, 4), dtype=int), floor=-2.0,
                        floor_reps=np.full(n_boot, -2.0), seed=seed, level=0.95)


def test_neighbourhoods_of_a_3x3_grid():
    hoods = neighbourhoods(_configs(), AXES)
    ids = list(_configs()["trial_id"])
    corner = hoods[ids.index("dpo-00")]
    centre = hoods[ids.index("dpo-11")]
    assert sorted(ids[i] for i in corner) == ["dpo-00", "dpo-01", "dpo-10"]
    assert len(centre) == 5


def test_neighbourhoods_along_a_new_axis():
    """A config differing only in an axis the analysis never heard of (tau) is a neighbour."""
    c = _configs().assign(tau=0.1)
    c2 = c.assign(tau=1.0, config_id=c["config_id"] + "t", trial_id=c["trial_id"] + "t")
    both = pd.concat([c, c2], ignore_index=True)
    hoods = neighbourhoods(both, AXES + ["tau"])
    corner = hoods[list(both["trial_id"]).index("dpo-00")]
    assert sorted(both["trial_id"].iloc[corner]) == ["dpo-00", "dpo-00t", "dpo-01", "dpo-10"]


def test_neighbourhood_score_by_hand():
    c = _configs()
    ids = list(c["trial_id"])
    hood = neighbourhood_scores(c, AXES)
    # half own score, half the mean of the neighbours
    assert hood[ids.index("dpo-00")] == pytest.approx(0.5 * 2.0 + 0.5 * (-1.0 - 1.0) / 2)
    assert hood[ids.index("dpo-22")] == pytest.approx(0.5 * 1.2 + 0.5 * (1.0 + 1.0) / 2)
    # centre (1,1): neighbours (0,1) -1, (1,0) -1, (2,1) 1, (1,2) 1
    assert hood[ids.index("dpo-11")] == pytest.approx(0.5 * 0.5 + 0.5 * 0.0)


def test_start_prefers_a_good_region_over_a_lone_spike():
    c = _configs()
    start = start_configs(c, _cs(c), {"dpo": AXES}, ["epochs"]).iloc[0]
    assert start["trial_id"] == "dpo-22"
    assert start["rank_by_score"] == 2  # the spike is the single best
    assert start["n_neighbours"] == 2
    assert start["epochs"] == 1  # carried although not a grid axis: the start prints every axis
    assert start["neighbourhood_lo"] <= start["neighbourhood"] <= start["neighbourhood_hi"]


def test_search_ranges_from_the_top_quarter():
    r = search_ranges(_configs(), {"dpo": AXES}).set_index("param")
    # top max(3, ceil(9/4)) = 3 configs: (0,0) 2.0, (2,2) 1.2, then (1,2)/(2,1) tie at 1.0 ->
    # trial_id order keeps dpo-12
    assert r.loc["beta", "values"] == [0.01, 0.1, 1.0] and r.loc["beta", "full_grid"]
    assert r.loc["learning_rate", "values"] == [1e-7, 1e-5]
    assert not r.loc["learning_rate", "full_grid"]


def test_choose_method_and_overlap():
    c = pd.concat([_configs("dpo"), _configs("simpo", shift=0.5), _configs("ln_dpo", shift=0.49)],
                  ignore_index=True)
    ch = choose_method(_cs(c, noise=0.2), budget=3)
    assert ch.method == "simpo"
    comp = ch.comparisons.set_index(["method", "n"])
    assert comp.loc[("dpo", 3), "diff"] == pytest.approx(0.5)
    # a 0.01 lead under noise 0.2 is not separated; 0.5 is
    assert not comp.loc[("ln_dpo", 3), "separated"]
    assert comp.loc[("dpo", 3), "separated"]
    assert set(ch.leaders["n"]) == {1, 3, 5, 10}
