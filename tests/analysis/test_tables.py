import numpy as np
import pytest

from analysis.headtohead import head_to_head
from analysis.performance import config_table
from analysis.tables import best_config_table, best_configs, head_to_head_table, reference_method
from analysis.topk import representatives


@pytest.fixture(scope="module")
def reps(study_default, cs_default):
    return representatives(config_table(study_default, cs_default), ["beta"])


def test_best_configs(study_default, reps):
    b = best_configs(study_default, reps).set_index("method")
    for m in study_default.methods:
        assert b.loc[m, "mean_score"] == study_default.method_trials(m)["mean_score"].max()
        assert b.loc[m, "source"] == "grid" and b.loc[m, "n_runs"] == 1
    assert b["beta"].notna().all()


def test_best_configs_use_confirmation_runs(study_seeds, cs_seeds):
    """Selected on the grid rows, estimated from the fresh-seed confirmation rows."""
    r = representatives(config_table(study_seeds, cs_seeds))
    b = best_configs(study_seeds, r).set_index("method")
    t = study_seeds.confirm
    for m in study_seeds.methods:
        assert b.loc[m, "source"] == "confirm"
        rows = t[(t["config_id"] == b.loc[m, "config_id"]) & (t["status"] == "ok")]
        assert b.loc[m, "mean_score"] == pytest.approx(rows["mean_score"].mean())
        w = rows["mean_length"]
        assert b.loc[m, "kl_per_token"] == pytest.approx((rows["kl_per_token"] * w).sum() / w.sum())


def test_table1_relative_by_hand(study_default, reps):
    best = best_configs(study_default, reps)
    ab = best_config_table(best, absolute=True)
    rel = best_config_table(best)
    np.testing.assert_allclose(rel.loc["dpo"], ab.loc["dpo"])
    x, ref = ab.loc["simpo", "mean_length"], ab.loc["dpo", "mean_length"]
    assert rel.loc["simpo", "mean_length"] == pytest.approx(100 * (x - ref) / abs(ref))


def test_table1_reference_is_the_first_method(study_default):
    assert reference_method(study_default.methods) == "dpo"
    assert reference_method(["simpo", "dpo"]) == "simpo"


def test_head_to_head_table(study_default, cs_default, reps):
    h = head_to_head(study_default, cs_default, reps)
    t = head_to_head_table(h)
    assert len(t) == 6  # ordered pairs of three methods, SFT excluded
    assert {"best_raw", "best_lc_lo", "top25_lc_hi"} <= set(t.columns)
    row = t[(t["model_a"] == "dpo") & (t["model_b"] == "simpo")].iloc[0]
    src = h[(h["role"] == "top25") & (h["model_a"] == "dpo") & (h["model_b"] == "simpo")].iloc[0]
    assert row["top25_lc"] == src["lc"]
    assert len(head_to_head_table(h, include_sft=True)) == 12
