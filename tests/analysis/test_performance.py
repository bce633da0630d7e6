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
        assert row["n_trials"] == len(sub)
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
