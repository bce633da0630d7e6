import numpy as np
import pytest

from analysis.performance import config_table, performance_table, share_below
from analysis.poi import iqm


def test_share_below_by_hand():
    assert share_below(np.array([0.1, 0.5, 0.2, 0.9]), 0.2) == pytest.approx(0.5)


def test_performance_table(study_edge, cs_edge):
    p = performance_table(study_edge, cs_edge).set_index("method")
    t = study_edge.trials
    for m, row in p.iterrows():
        sub = t[t["method"] == m]
        assert row["n_trials"] == len(sub) == row["n_configs"]  # one seed
        assert row["n_ok"] + row["n_failed"] + row["n_diverged"] == len(sub)
        assert row["n_failed"] == (sub["status"] == "failed").sum()
        point, _ = cs_edge.effective(m)
        assert row["iqm"] == pytest.approx(iqm(point))
        # failures count as below SFT
        real_below = (sub["mean_score"] <= cs_edge.sft_point).sum()
        assert row["share_below_sft"] == pytest.approx(
            (real_below + (sub["status"] != "ok").sum()) / len(sub))
        assert row["share_below_sft_lo"] <= row["share_below_sft"] <= row["share_below_sft_hi"]
        assert row["iqm_lo"] <= row["iqm"] <= row["iqm_hi"]
        assert row["best_lo"] <= row["best"] <= row["best_hi"]


def test_config_table(study_edge, cs_edge):
    c = config_table(study_edge, cs_edge)
    ok = c["status"] == "ok"
    np.testing.assert_allclose(c.loc[ok, "score"], c.loc[ok, "mean_score"], atol=1e-9)
    assert (c.loc[~ok, "score"] == cs_edge.floor).all()


def test_config_table_averages_seeds(study_seeds, cs_seeds):
    c = config_table(study_seeds, cs_seeds)
    g = study_seeds.grid
    assert len(c) == g["config_id"].nunique() and (c["n_seeds"] == 3).all()
    full = c[c["n_ok"] == 3].iloc[0]
    rows = g[g["config_id"] == full["config_id"]]
    assert full["score"] == pytest.approx(rows["mean_score"].mean(), abs=1e-9)
    assert full["seed_sd"] == pytest.approx(rows["mean_score"].std(ddof=1))
    # a config with a failed seed averages it at the floor
    part = c[(c["n_ok"] < 3) & (c["n_ok"] > 0)].iloc[0]
    rows = g[(g["config_id"] == part["config_id"]) & (g["status"] == "ok")]
    assert part["score"] == pytest.approx((rows["mean_score"].sum() + cs_seeds.floor) / 3,
                                          abs=1e-9)
    assert part["status"] == "ok"


def test_share_below_counts_trials(study_seeds, cs_seeds):
    p = performance_table(study_seeds, cs_seeds).set_index("method")
    g = study_seeds.grid
    for m, row in p.iterrows():
        sub = g[g["method"] == m]
        below = ((sub["mean_score"] <= cs_seeds.sft_point) | (sub["status"] != "ok")).mean()
        assert row["share_below_sft"] == pytest.approx(below)
        assert row["n_trials"] == len(sub) == 3 * row["n_configs"]
