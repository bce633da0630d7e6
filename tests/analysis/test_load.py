import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.load import NEW_TRIAL_COLUMNS, ResultsError, load_study, required_trial_columns


@pytest.fixture
def copy(results_edge, tmp_path):
    dest = tmp_path / "r"
    shutil.copytree(results_edge, dest, ignore=shutil.ignore_patterns("report"))
    return dest


def test_loads_contract_tables(study_default):
    s = study_default
    assert s.name == "fixture"
    assert s.methods == ["dpo", "ln_dpo", "simpo"]
    assert set(required_trial_columns()) | set(NEW_TRIAL_COLUMNS) <= set(s.trials.columns)
    assert (s.trials["role"] == "grid").all() and s.confirm.empty
    assert len(s.prompt_ids) == 100 and s.prompt_ids == sorted(s.prompt_ids)
    m = s.matrix("score")
    assert m.shape == (len(s.trials), 100)
    row = s.samples[s.samples["trial_id"] == s.trials["trial_id"].iloc[3]]
    np.testing.assert_allclose(m[3], row.sort_values("prompt_id")["score"])
    assert s.kl_exact and s.samples_per_prompt == 1
    assert s.labels == {"dpo": "DPO", "ln_dpo": "LN-DPO", "simpo": "SimPO"}


def test_axes_come_from_study_json(study_default, study_edge):
    simpo = study_default.info("simpo")
    assert simpo.registered
    assert simpo.names == ["beta", "gamma_beta_ratio", "gamma", "learning_rate", "epochs"]
    assert simpo.axis("gamma").derived_from == ("beta", "gamma_beta_ratio")
    assert simpo.axis("beta").log and not simpo.axis("gamma_beta_ratio").log
    assert simpo.axis("gamma_beta_ratio").text == "γ/β"
    t = study_default.trials
    assert [a.name for a in simpo.varying(t[t["method"] == "simpo"])] == [
        "beta", "gamma_beta_ratio", "learning_rate", "epochs"]
    assert [a.name for a in simpo.varying(t[t["method"] == "simpo"], derived=True)] == [
        "beta", "gamma_beta_ratio", "gamma", "learning_rate", "epochs"]
    e = study_edge.trials
    assert study_edge.info("ln_dpo").varying(e[e["method"] == "ln_dpo"]) == []  # single config


def test_old_layout_falls_back_to_columns(results_old, results_edge):
    old, new = load_study(results_old), load_study(results_edge)
    assert not old.kl_exact and new.kl_exact
    for c in NEW_TRIAL_COLUMNS:
        assert c in old.trials
    assert (old.trials["role"] == "grid").all()
    assert old.trials["config_id"].is_unique  # one seed: every trial is its own config
    simpo = old.info("simpo")
    assert not simpo.registered and simpo.label == "simpo"
    # gamma = beta * ratio is recognised as derived; the scales are guessed from the values
    assert simpo.axis("gamma").derived and not simpo.axis("gamma_beta_ratio").derived
    assert simpo.axis("beta").log and simpo.axis("learning_rate").log
    assert not simpo.axis("epochs").log
    assert simpo.names[:2] == ["beta", "gamma"]  # the columns' order
    assert set(old.samples["n_samples"]) == {1}


def test_old_layout_kl_per_token_is_a_ratio_of_means(results_old):
    s = load_study(results_old)
    raw = pd.read_parquet(results_old / "samples.parquet")
    tid = s.trials.loc[s.trials["status"] == "ok", "trial_id"].iloc[0]
    sub = raw[raw["trial_id"] == tid]
    row = s.trials.set_index("trial_id").loc[tid]
    assert row["kl_per_token"] == pytest.approx(sub["kl"].sum() / sub["length"].sum())
    assert row["mean_kl_per_token"] == pytest.approx((sub["kl"] / sub["length"]).mean())
    assert (raw["kl"] < 0).any()  # the old sampled-token estimate can be negative


def test_replicates_share_a_config(study_seeds):
    g = study_seeds.grid
    per_config = g.groupby("config_id")["seed"].agg(sorted)
    assert (per_config.map(tuple) == (0, 1, 2)).all()
    c = study_seeds.confirm
    assert len(c) and set(c["config_id"]) <= set(g["config_id"])
    assert set(c["seed"]).isdisjoint({0, 1, 2})


def test_config_id_fallback_groups_seeds(results_seeds, tmp_path):
    dest = tmp_path / "s"
    shutil.copytree(results_seeds, dest)
    t = pd.read_parquet(dest / "trials.parquet")
    t.drop(columns="config_id").to_parquet(dest / "trials.parquet")
    a, b = load_study(results_seeds), load_study(dest)
    def groups(s):
        return sorted(sorted(g) for g in s.trials.groupby("config_id")["trial_id"].agg(list))

    assert groups(a) == groups(b)


def test_samples_are_averaged_per_prompt(study_seeds, results_seeds):
    s = study_seeds
    raw = pd.read_parquet(results_seeds / "samples.parquet")
    assert set(raw["sample_index"]) == {0, 1} and s.samples_per_prompt == 2
    assert len(s.samples) == len(raw) // 2 and len(s.responses) == len(raw)
    tid = s.grid.loc[s.grid["status"] == "ok", "trial_id"].iloc[0]
    sub = raw[(raw["trial_id"] == tid) & (raw["prompt_id"] == "p0003")]
    row = s.samples[(s.samples["trial_id"] == tid) & (s.samples["prompt_id"] == "p0003")].iloc[0]
    assert row["score"] == pytest.approx(sub["score"].mean())
    assert row["kl_per_token"] == pytest.approx(sub["kl"].sum() / sub["length"].sum())
    assert row["n_samples"] == 2


def test_missing_axis_column_names_the_method(results_family, tmp_path):
    dest = tmp_path / "f"
    shutil.copytree(results_family, dest)
    t = pd.read_parquet(dest / "trials.parquet").drop(columns="tau")
    t.to_parquet(dest / "trials.parquet")
    with pytest.raises(ResultsError, match=r"\['tau'\].*tau_po"):
        load_study(dest)


def test_row_order_does_not_matter(copy):
    ref = load_study(copy)
    for name in ("trials", "samples", "baseline"):
        df = pd.read_parquet(copy / f"{name}.parquet")
        df.sample(frac=1.0, random_state=3).to_parquet(copy / f"{name}.parquet", index=False)
    shuffled = load_study(copy)
    pd.testing.assert_frame_equal(ref.trials, shuffled.trials)
    pd.testing.assert_frame_equal(ref.samples, shuffled.samples)
    pd.testing.assert_frame_equal(ref.baseline, shuffled.baseline)


def test_missing_file(copy):
    (copy / "baseline.parquet").unlink()
    with pytest.raises(ResultsError, match="baseline.parquet"):
        load_study(copy)


def test_missing_column(copy):
    assert "mean_kl" in required_trial_columns()
    t = pd.read_parquet(copy / "trials.parquet").drop(columns="mean_kl")
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match="mean_kl"):
        load_study(copy)


def test_bad_status_names_trial(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    t.loc[2, "status"] = "exploded"
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match=f"{t.loc[2, 'trial_id']}.*exploded"):
        load_study(copy)


def test_bad_role_names_trial(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    t.loc[1, "role"] = "rerun"
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match=f"{t.loc[1, 'trial_id']}.*role 'rerun'"):
        load_study(copy)


def test_duplicate_sample_names_trial(copy):
    s = pd.read_parquet(copy / "samples.parquet")
    s = pd.concat([s, s.iloc[[0]]], ignore_index=True)
    s.to_parquet(copy / "samples.parquet")
    with pytest.raises(ResultsError, match=f"{s['trial_id'].iloc[0]}.*twice"):
        load_study(copy)


def test_ok_trial_missing_prompts(copy):
    s = pd.read_parquet(copy / "samples.parquet")
    victim = s["trial_id"].iloc[0]
    s = s.drop(index=s.index[0])
    s.to_parquet(copy / "samples.parquet")
    with pytest.raises(ResultsError, match=f"{victim}.*99 of the 100"):
        load_study(copy)


def test_failed_trial_with_samples(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    ok_id = t.loc[t["status"] == "ok", "trial_id"].iloc[0]
    t.loc[t["trial_id"] == ok_id, "status"] = "failed"
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match=f"failed trial '{ok_id}' has samples"):
        load_study(copy)


def test_mean_score_must_match_samples(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    i = t.index[t["status"] == "ok"][0]
    t.loc[i, "mean_score"] += 0.5
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match="mean_score"):
        load_study(copy)


def test_unknown_trial_in_samples(copy):
    s = pd.read_parquet(copy / "samples.parquet")
    s.loc[0, "trial_id"] = "ghost"
    s.to_parquet(copy / "samples.parquet")
    with pytest.raises(ResultsError, match="ghost"):
        load_study(copy)


def test_bad_json(copy):
    (copy / "study.json").write_text("{not json")
    with pytest.raises(ResultsError, match="study.json"):
        load_study(copy)


def test_absolute_gamma_axis(tmp_path, fixture_factory):
    s = load_study(fixture_factory(tmp_path / "abs", grid="small", methods=("simpo",),
                                   simpo_gamma="absolute"))
    assert "gamma_beta_ratio" not in s.trials  # not an axis of this study's methods
    info = s.info("simpo")
    assert "gamma" in [a.name for a in info.varying(s.trials)] and not info.axis("gamma").derived
    assert json.loads((tmp_path / "abs" / "study.json").read_text())["n_trials"] == len(s.trials)


def test_configs_differing_only_in_a_new_axis_are_distinct(results_family, tmp_path):
    """Issue 11: without config_id (fallback: method + every axis value), two tau values are
    two configs, not replicates of one."""
    dest = tmp_path / "f"
    shutil.copytree(results_family, dest)
    t = pd.read_parquet(dest / "trials.parquet")
    t.drop(columns="config_id").to_parquet(dest / "trials.parquet")
    s = load_study(dest)
    tau = s.trials[s.trials["method"] == "tau_po"]
    assert tau["config_id"].nunique() == len(tau) == 8
    assert tau.groupby("tau")["config_id"].nunique().eq(2).all()  # x 2 learning rates
