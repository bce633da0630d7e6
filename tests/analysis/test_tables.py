import numpy as np
import pytest

from analysis.headtohead import head_to_head
from analysis.tables import best_config_table, best_configs, head_to_head_table


def test_best_configs(study_default):
    b = best_configs(study_default).set_index("method")
    for m in study_default.methods:
        assert b.loc[m, "mean_score"] == study_default.method_trials(m)["mean_score"].max()


def test_table1_relative_by_hand(study_default):
    ab = best_config_table(study_default, absolute=True)
    rel = best_config_table(study_default)
    np.testing.assert_allclose(rel.loc["dpo"], ab.loc["dpo"])
    x, ref = ab.loc["simpo", "mean_length"], ab.loc["dpo", "mean_length"]
    assert rel.loc["simpo", "mean_length"] == pytest.approx(100 * (x - ref) / abs(ref))


def test_table1_reference_without_dpo(study_default):
    from analysis.tables import reference_method

    assert reference_method(study_default) == "dpo"


def test_head_to_head_table(study_default, cs_default):
    h = head_to_head(study_default, cs_default)
    t = head_to_head_table(h)
    assert len(t) == 6  # ordered pairs of three methods, SFT excluded
    assert {"best_raw", "best_lc_lo", "top25_lc_hi"} <= set(t.columns)
    row = t[(t["model_a"] == "dpo") & (t["model_b"] == "simpo")].iloc[0]
    src = h[(h["role"] == "top25") & (h["model_a"] == "dpo") & (h["model_b"] == "simpo")].iloc[0]
    assert row["top25_lc"] == src["lc"]
    assert len(head_to_head_table(h, include_sft=True)) == 12
