import math

import numpy as np
import pandas as pd
import pytest

from analysis.performance import config_table
from analysis.topk import (bin_size, distinct_bins, rank_configs, representatives, top_k,
                           top_k_counts, top_k_samples)


def _configs(scores, status=None):
    n = len(scores)
    return pd.DataFrame({
        "trial_id": [f"t{i:02d}" for i in range(n)],
        "config_id": [f"c{i:02d}" for i in range(n)],
        "score": scores,
        "status": status or ["ok"] * n,
    })


@pytest.mark.parametrize("n,k,expected", [(24, 1, 1), (24, 5, 2), (24, 10, 3), (24, 25, 6),
                                          (54, 25, 14), (1, 25, 1), (100, 5, 5), (20, 5, 1)])
def test_bin_size_is_ceil(n, k, expected):
    assert bin_size(n, k) == expected == max(1, math.ceil(k * n / 100))


def test_ties_broken_by_trial_id_and_failures_last():
    c = _configs([0.5, 0.9, -5.0, 0.9, 0.1], ["ok", "ok", "failed", "ok", "ok"])
    ranked = rank_configs(c.iloc[::-1])  # row order must not matter
    assert list(ranked["trial_id"]) == ["t01", "t03", "t00", "t04", "t02"]
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5]
    assert list(top_k(c, 25)["trial_id"]) == ["t01", "t03"]  # ceil(0.25 * 5) = 2


def test_representatives(study_default, cs_default):
    configs = config_table(study_default, cs_default)
    reps = representatives(configs, ["beta"])
    assert "beta" in reps.columns
    for m, g in reps.groupby("method"):
        n = int(g["n_configs"].iloc[0])
        ranked = rank_configs(configs[configs["method"] == m])
        best = g[g["role"] == "best"].iloc[0]
        top25 = g[g["role"] == "top25"].iloc[0]
        assert best["config_id"] == ranked["config_id"].iloc[0]
        assert top25["rank"] == math.ceil(0.25 * n)
        assert top25["config_id"] == ranked["config_id"].iloc[math.ceil(0.25 * n) - 1]
        # 25% of the grid is at least as good as the top-25% config
        assert (ranked["score"] >= top25["score"]).sum() == math.ceil(0.25 * n)
        # one seed: the rank-1 config is the trial with the highest mean score
        trials = study_default.method_trials(m)
        assert best["trial_id"] == trials.loc[trials["mean_score"].idxmax(), "trial_id"]


def test_representatives_rank_configs_by_their_seeds_mean(study_seeds, cs_seeds):
    configs = config_table(study_seeds, cs_seeds)
    reps = representatives(configs)
    g = study_seeds.grid
    for r in reps[reps["role"] == "best"].itertuples():
        sub = configs[configs["method"] == r.method]
        assert r.score == sub["score"].max()
        assert g[g["config_id"] == r.config_id]["seed"].nunique() == 3


def test_top_k_samples_and_counts(study_edge, cs_edge):
    configs = config_table(study_edge, cs_edge)
    counts = top_k_counts(configs)
    samples = top_k_samples(study_edge, configs)
    n_prompts = len(study_edge.prompt_ids)
    for r in counts.itertuples():
        sel = samples[(samples["method"] == r.method) & (samples["k"] == r.k)]
        assert sel["trial_id"].nunique() == r.n_with_samples
        assert len(sel) == r.n_with_samples * n_prompts
        assert r.n_configs == bin_size(r.n_grid, r.k)
    single = counts[counts["method"] == "ln_dpo"]
    assert (single["n_configs"] == 1).all()


def test_top_k_samples_hold_every_seed(study_seeds, cs_seeds):
    configs = config_table(study_seeds, cs_seeds)
    samples = top_k_samples(study_seeds, configs, ks=(1,))
    for m, g in samples.groupby("method"):
        assert g["trial_id"].nunique() == 3  # the best config's three seeds
        assert np.isfinite(g["kl_per_token"]).all()


def test_distinct_bins_merge_bins_that_select_the_same_configs():
    def counts(sizes):  # {method: n configs}
        rows = [dict(method=m, k=k, n_configs=bin_size(n, k)) for m, n in sizes.items()
                for k in (1, 5, 10, 25)]
        return pd.DataFrame(rows)

    # 4 configs: every bin is the best config
    assert distinct_bins(counts({"dpo": 4, "simpo": 4})) == {25: "top 1–25%"}
    # 24 configs: 1, 2, 3, 6 configs, four bins
    assert distinct_bins(counts({"dpo": 24})) == {1: "top 1%", 5: "top 5%", 10: "top 10%",
                                                  25: "top 25%"}
    # 20 and 40 configs: top 1% and 5% hold 1 config of the first method but 1 and 2 of the
    # second, so they stay apart; 10% (2 and 4) and 25% (5 and 10) too
    assert list(distinct_bins(counts({"a": 20, "b": 40}))) == [1, 5, 10, 25]
    # 12 configs: 1% and 5% both hold one, 10% two, 25% three
    assert distinct_bins(counts({"dpo": 12})) == {5: "top 1–5%", 10: "top 10%", 25: "top 25%"}


def test_harness_selection_from_trials_parquet_equals_the_reports(study_seeds, cs_seeds):
    """--confirm selects from trials.parquet's mean_score (harness.selection.config_scores);
    the report from its bootstrap's point scores on the samples: the same configs, failures
    included (the fixture has 2 failed trials, 3 seeds, 2 samples per prompt)."""
    from harness.selection import config_scores, selected

    reps = representatives(config_table(study_seeds, cs_seeds))
    trials = study_seeds.trials
    harness_side = selected(config_scores(trials, float(study_seeds.baseline["score"].mean())))
    key = ["method", "role"]
    pd.testing.assert_frame_equal(
        reps[key + ["config_id", "rank", "n_configs"]].sort_values(key).reset_index(drop=True),
        harness_side.sort_values(key).reset_index(drop=True), check_dtype=False)
    assert (trials["status"] != "ok").any()
    # confirmation runs were made of exactly these configs
    confirmed = set(trials.loc[trials["role"] == "confirm", "config_id"])
    assert confirmed == set(harness_side["config_id"])
