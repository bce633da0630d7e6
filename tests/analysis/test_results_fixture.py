"""The fixture generator writes exactly the results layout (the v2 contract, and the old one)."""

import json

import numpy as np
import pandas as pd
import pytest

from harness.schema import BASELINE_TRIAL_ID

MODEL_METRICS = ["mean_score", "win_vs_chosen", "win_vs_sft", "mean_kl", "kl_per_token",
                 "mean_kl_sample", "mean_length", "length_logp_spearman"]


def _read(p):
    return (json.loads((p / "study.json").read_text()), pd.read_parquet(p / "trials.parquet"),
            pd.read_parquet(p / "samples.parquet"), pd.read_parquet(p / "baseline.parquet"))


def test_layout(results_default, rf):
    meta, trials, samples, baseline = _read(results_default)
    assert set(meta) == {"study", "config", "versions", "git_revision", "seeds", "n_trials",
                         "created", "study_hash", "trial_ids", "methods", "replicates"}
    assert meta["n_trials"] == len(trials) == 24 + 24 + 54
    axes = list(dict.fromkeys(a["name"] for m in meta["methods"].values() for a in m["axes"]))
    assert list(trials.columns) == list(rf.trial_base_columns()) + axes
    assert list(samples.columns) == list(rf.sample_columns())
    assert list(baseline.columns) == list(rf.sample_columns())
    assert (baseline["trial_id"] == BASELINE_TRIAL_ID).all() and len(baseline) == 100
    assert len(samples) == len(trials) * 100
    assert trials["trial_id"].is_unique and (trials["config_id"] == trials["trial_id"]).all()
    assert meta["trial_ids"] == list(trials["trial_id"])
    assert trials.loc[trials["method"] != "simpo", "gamma"].isna().all()
    simpo = trials[trials["method"] == "simpo"]
    np.testing.assert_allclose(simpo["gamma"], simpo["beta"] * simpo["gamma_beta_ratio"])
    np.testing.assert_allclose(samples["kl_per_token"], samples["kl"] / samples["length"])
    assert (samples["kl"] >= 0).all() and (samples["kl_sample"] < 0).any()
    per = samples.groupby("trial_id")[["kl", "length"]].sum()
    ratio = trials.set_index("trial_id")["kl_per_token"]
    np.testing.assert_allclose(ratio, (per["kl"] / per["length"]).reindex(ratio.index))
    assert meta["methods"]["simpo"]["label"] == "SimPO"
    assert meta["replicates"] == {"seeds": [0], "generation_seed": "fixed"}


def test_old_layout(results_old, rf):
    meta, trials, samples, baseline = _read(results_old)
    assert "methods" not in meta and "replicates" not in meta
    assert list(trials.columns) == list(rf.OLD_TRIAL_COLUMNS)
    assert list(samples.columns) == list(rf.OLD_SAMPLE_COLUMNS)
    assert (samples["kl"] < 0).any()  # kl was the sampled-token estimate


def test_replicates_and_confirmations(results_seeds):
    meta, trials, samples, _ = _read(results_seeds)
    grid = trials[trials["role"] == "grid"]
    assert (grid.groupby("config_id")["seed"].nunique() == 3).all()
    assert (grid["generation_seed"] == grid["seed"]).all()  # per_replicate
    confirm = trials[trials["role"] == "confirm"]
    # 2 fresh seeds x (best, top-25%) x 3 methods, fewer where best == top-25%
    assert len(confirm) == 2 * confirm["config_id"].nunique()
    assert 2 * 3 * 1 <= len(confirm) <= 2 * 3 * 2
    assert set(confirm["seed"]) == {3, 4}
    assert set(samples["sample_index"]) == {0, 1}
    assert meta["replicates"]["generation_seed"] == "per_replicate"


def test_family_and_plugin(results_family, rf):
    meta, trials, _, _ = _read(results_family)
    assert list(meta["methods"]) == sorted(rf.FAMILY + (rf.PLUGIN_METHOD,))  # sorted keys
    assert trials["method"].nunique() == 12
    tau = trials[trials["method"] == rf.PLUGIN_METHOD]
    assert tau["tau"].nunique() == 4
    assert trials.loc[trials["method"] != "tau_po", "tau"].isna().all()
    assert [a["name"] for a in meta["methods"]["tau_po"]["axes"]] == ["tau", "learning_rate",
                                                                      "epochs"]


def test_seeded(tmp_path, fixture_factory):
    a = _read(fixture_factory(tmp_path / "a", grid="small", seed=3))
    b = _read(fixture_factory(tmp_path / "b", grid="small", seed=3))
    c = _read(fixture_factory(tmp_path / "c", grid="small", seed=4))
    assert a[0] == b[0]
    for x, y in zip(a[1:], b[1:]):
        pd.testing.assert_frame_equal(x, y)
    assert not np.allclose(a[1]["mean_score"], c[1]["mean_score"])


def test_failed_and_diverged(results_edge):
    _, trials, samples, _ = _read(results_edge)
    failed = trials[trials["status"] == "failed"]
    diverged = trials[trials["status"] == "diverged"]
    assert len(failed) == 3 and len(diverged) == 2
    assert failed[MODEL_METRICS].isna().all().all()
    assert diverged[MODEL_METRICS].isna().all().all()
    assert diverged["reward_accuracy"].notna().all()  # a diverged trial keeps train metrics
    assert failed["error"].str.len().gt(0).all()
    assert not set(samples["trial_id"]) & (set(failed["trial_id"]) | set(diverged["trial_id"]))
    assert (trials["method"] == "ln_dpo").sum() == 1  # the single-config method
    assert trials.loc[trials["method"] == "ln_dpo", "status"].eq("ok").all()


def test_one_method_and_absolute_gamma(results_one_method, tmp_path, fixture_factory):
    _, trials, _, _ = _read(results_one_method)
    assert set(trials["method"]) == {"simpo"}
    meta, t, _, _ = _read(fixture_factory(tmp_path / "abs", grid="small", simpo_gamma="absolute"))
    s = t[t["method"] == "simpo"]
    assert "gamma_beta_ratio" not in t and s["gamma"].notna().all()
    axes = meta["methods"]["simpo"]["axes"]
    assert [a["name"] for a in axes][:2] == ["beta", "gamma"] and not axes[1]["derived_from"]


def test_realistic_effects(results_default):
    _, trials, _, baseline = _read(results_default)
    sft = baseline["score"].mean()
    assert (trials["mean_score"] < sft).any()  # some configs end below SFT
    for m, g in trials.groupby("method"):
        # KL grows with learning rate and falls with beta (Spearman over the grid)
        assert g["mean_kl"].corr(g["learning_rate"], method="spearman") > 0.2, m
        assert g["mean_kl"].corr(g["beta"], method="spearman") < -0.2, m
    s = trials[trials["method"] == "simpo"]
    assert s["mean_length"].corr(s["gamma"], method="spearman") < -0.2
    assert s["mean_length"].corr(s["learning_rate"], method="spearman") > 0.2
    ln = trials[trials["method"] == "ln_dpo"]["mean_length"]
    assert ln.max() - ln.min() < s["mean_length"].max() - s["mean_length"].min()


def test_components_are_exact(component_factory, tmp_path):
    _, known = component_factory(tmp_path / "c", seeds=(0, 1, 2), n_prompts=50,
                                 axis_var={"beta": 0.3, "learning_rate": 0.1})
    assert known["config"] == pytest.approx(0.4)
    assert sum(known["shares"].values()) == pytest.approx(1.0)
    assert known["prompts"] == pytest.approx(1.0 / 50)


def test_too_many_failures(tmp_path, fixture_factory):
    with pytest.raises(ValueError, match="exceeds"):
        fixture_factory(tmp_path / "x", grid="small", methods=("dpo",), n_failed=7)
