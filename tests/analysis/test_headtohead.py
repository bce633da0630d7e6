import numpy as np
import pandas as pd
import pytest

from analysis.headtohead import elo_table, head_to_head, missing_models
from analysis.scores import config_scores
from analysis.winrate import lc_win_rate, win_tie_loss


@pytest.fixture(scope="module")
def h2h(study_default, cs_default):
    return head_to_head(study_default, cs_default)


def test_pairs_and_consistency(h2h):
    models = {"dpo", "ln_dpo", "simpo", "sft"}
    for role in ("best", "top25"):
        sub = h2h[h2h["role"] == role]
        assert len(sub) == 4 * 3
        assert set(sub["model_a"]) == models
    np.testing.assert_allclose(h2h["win"] + h2h["tie"] + h2h["loss"], 1.0)
    np.testing.assert_allclose(h2h["raw"], 100 * (h2h["win"] + 0.5 * h2h["tie"]))
    key = h2h.set_index(["role", "model_a", "model_b"])
    for (role, a, b), r in key.iterrows():
        back = key.loc[(role, b, a)]
        assert r["raw"] + back["raw"] == pytest.approx(100.0)
        assert r["lc"] + back["lc"] == pytest.approx(100.0, abs=1e-6)
    assert ((h2h["raw_lo"] <= h2h["raw"]) & (h2h["raw"] <= h2h["raw_hi"])).all()
    assert ((h2h["lc_lo"] <= h2h["lc"]) & (h2h["lc"] <= h2h["lc_hi"])).all()


def test_values_equal_the_functions(study_default, h2h):
    sel = (h2h["role"] == "best") & (h2h["model_a"] == "simpo") & (h2h["model_b"] == "sft")
    r = h2h[sel].iloc[0]
    s = study_default
    sa = s.matrix("score", [r["trial_a"]])[0]
    la = s.matrix("length", [r["trial_a"]])[0]
    sb, lb = s.baseline_vector("score"), s.baseline_vector("length")
    assert r["raw"] == pytest.approx(win_tie_loss(sa, sb)["raw"][0])
    assert r["lc"] == pytest.approx(lc_win_rate(sa, sb, la, lb)[0])


def test_elo(study_default, cs_default):
    e = elo_table(study_default, cs_default)
    assert e.loc[e["model"] == "sft", "elo"].iloc[0] == 1000.0
    assert len(e) == 7
    assert ((e["lo"] <= e["elo"] + 1e-9) & (e["elo"] <= e["hi"] + 1e-9)).all()


def test_missing_when_representative_failed(tmp_path, fixture_factory):
    from analysis.load import load_study

    p = fixture_factory(tmp_path / "r", grid="small", methods=("dpo", "simpo"), n_failed=10)
    s = load_study(p)
    miss = missing_models(s)
    assert len(miss) > 0 and (miss["status"] != "ok").all()
    h = head_to_head(s, config_scores(s, n_boot=20))
    assert isinstance(h, pd.DataFrame)
    for r in miss.itertuples():
        assert r.trial_id not in set(h["trial_a"])
