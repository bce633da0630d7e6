import numpy as np
import pytest

from analysis.load import load_study
from analysis.variance import method_components, seed_noise, seed_table, variance_table


def _shares(table, method="dpo"):
    sub = table[table["method"] == method].set_index("component")
    return {"config": sub.at["config", "share"], "seed": sub.at["seed", "share"],
            "interaction": sub.at["config_x_seed", "share"],
            "generation": np.nan_to_num(sub.at["generation_seed", "share"]),
            "prompts": sub.at["prompts", "share"]}


@pytest.mark.parametrize("case", [
    dict(axis_var={"beta": 0.2, "learning_rate": 0.1}, axis_interaction_var=0.05, seed_var=0.08,
         interaction_var=0.06, noise_var=4.0),  # the toy-world mix, roughly
    dict(axis_var={"beta": 0.02, "learning_rate": 0.01}, axis_interaction_var=0.0,
         seed_var=0.15, interaction_var=0.1, noise_var=3.0),  # seed noise dominates
])
def test_recovers_known_shares(case, component_factory, tmp_path):
    """Must-hold 2: the decomposition recovers the known shares of config, seed, config x seed
    and prompts within 0.05, and splits the config share over the axes."""
    path, known = component_factory(tmp_path / "v", seeds=tuple(range(12)), n_prompts=100,
                                    axes={"beta": [0.01, 0.03, 0.1, 0.3],
                                          "learning_rate": [1e-7, 3e-7, 1e-6, 3e-6]}, **case)
    table = variance_table(load_study(path))
    got = _shares(table)
    for k, v in known["shares"].items():
        assert got[k] == pytest.approx(v, abs=0.05), k
    total = sum(v for k, v in known.items() if k in ("config", "seed", "interaction",
                                                      "generation", "prompts"))
    axes = table[table["component"] == "axis"].set_index("axis")["share"]
    for a, v in known["axes"].items():
        assert axes[a] == pytest.approx(v / total, abs=0.05), a
    assert table.loc[table["component"].isin(["config", "seed", "config_x_seed", "prompts"]),
                     "share"].sum() == pytest.approx(1.0)


def test_generation_seed_share(component_factory, tmp_path):
    path, known = component_factory(tmp_path / "g", seeds=tuple(range(4)), n_prompts=100,
                                    generation_seeds=3, generation_var=0.04, noise_var=2.0)
    got = _shares(variance_table(load_study(path)))
    for k, v in known["shares"].items():
        assert got[k] == pytest.approx(v, abs=0.05), k
    assert known["shares"]["generation"] > 0.05


def test_one_seed_says_what_it_cannot_estimate(study_default):
    d = method_components(study_default, "dpo")
    assert np.isnan(d["variance"]["seed"]) and np.isnan(d["variance"]["config_x_seed"])
    assert d["variance"]["config"] > 0 and any("one training seed" in n for n in d["notes"])
    assert np.isnan(seed_noise(variance_table(study_default), "dpo"))


def test_failed_seeds_leave_their_config_out(study_seeds):
    d = method_components(study_seeds, "dpo")
    g = study_seeds.method_trials("dpo")
    incomplete = g.groupby("config_id")["status"].agg(lambda s: (s != "ok").any()).sum()
    assert d["n_left_out"] == incomplete and d["n_seeds"] == 3
    assert d["n_configs"] == g["config_id"].nunique() - incomplete
    assert any("generation seed changes with the training seed" in n for n in d["notes"])


def test_seed_table(study_seeds):
    s = seed_table(study_seeds)
    for m, g in s.groupby("method"):
        assert sorted(g["seed"]) == [0, 1, 2]
        assert g["first"].sum() == pytest.approx(1.0) and g["last"].sum() == pytest.approx(1.0)
