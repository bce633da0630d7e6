import numpy as np
import pandas as pd
import pytest

from analysis.methods import Axis, MethodInfo
from analysis.sensitivity import grid_table, sensitivity_params, sensitivity_table, value_spread

SHARED = (Axis("learning_rate", "log"), Axis("epochs"))
INFOS = {"dpo": MethodInfo("dpo", "DPO", (Axis("beta", "log"),) + SHARED, True),
         "simpo": MethodInfo("simpo", "SimPO", (Axis("beta", "log"), Axis("gamma_beta_ratio"),
                                                Axis("gamma", derived_from=("beta",
                                                                            "gamma_beta_ratio")))
                             + SHARED, True)}


def _configs():
    # dpo: beta x learning_rate, one failed config at beta=0.1, lr=1e-6 (score at the floor -9)
    rows = []
    scores = {(0.01, 3e-7): 1.0, (0.01, 1e-6): 3.0, (0.1, 3e-7): 2.0, (0.1, 1e-6): -9.0}
    for (b, lr), sc in scores.items():
        rows.append(dict(method="dpo", trial_id=f"d{b}{lr}", beta=b, gamma=np.nan,
                         gamma_beta_ratio=np.nan, learning_rate=lr, epochs=1,
                         status="failed" if sc == -9.0 else "ok", score=sc))
    for b in (2.0, 10.0):
        for r in (0.3, 0.5):
            rows.append(dict(method="simpo", trial_id=f"s{b}{r}", beta=b, gamma=b * r,
                             gamma_beta_ratio=r, learning_rate=1e-6, epochs=1, status="ok",
                             score=b * r))
    return pd.DataFrame(rows)


def test_sensitivity_table_by_hand():
    t = sensitivity_table(_configs(), "dpo", "beta").set_index("beta")
    assert t.loc[0.01, "mean"] == pytest.approx(2.0)  # (1 + 3) / 2
    assert t.loc[0.1, "mean"] == pytest.approx(-3.5)  # (2 - 9) / 2, the failure at the floor
    assert t.loc[0.1, "n_failed"] == 1 and t.loc[0.01, "n_failed"] == 0
    assert t.loc[0.1, "max"] == 2.0 and t.loc[0.01, "min"] == 1.0
    assert value_spread(_configs(), "dpo", "beta") == pytest.approx(2.0 - (-3.5))


def test_grid_table_by_hand():
    g = grid_table(_configs(), "dpo", "beta", "learning_rate")
    assert g.loc[0.01, 1e-6] == 3.0 and g.loc[0.1, 3e-7] == 2.0
    with pytest.raises(ValueError, match="agg"):
        grid_table(_configs(), "dpo", "beta", "learning_rate", agg="sum")
    with pytest.raises(KeyError, match="gamma"):
        grid_table(_configs(), "dpo", "gamma", "beta")


def test_params_include_derived_axes():
    """The derived axis gets a panel too (the paper plots SimPO's score against gamma)."""
    assert sensitivity_params(INFOS["simpo"], _configs()) == ["beta", "gamma_beta_ratio",
                                                              "gamma"]
    assert sensitivity_params(INFOS["dpo"], _configs()) == ["beta", "learning_rate"]


def test_unknown_method():
    with pytest.raises(KeyError, match="ipo"):
        sensitivity_table(_configs(), "ipo", "beta")
