"""Grid expansion and trial ids: stable, sensitive to what changes a result, blind to the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import Study, load_study
from harness.grid import TrialSpec, expand
from harness.objectives import OBJECTIVES

TOY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "configs" / "toy_study.yaml"


def _key(s: TrialSpec) -> tuple:
    v = s.values
    return (s.method, v["beta"], v.get("gamma"), v["learning_rate"], v["epochs"], s.seed)


def _ids(*overrides) -> dict[tuple, str]:
    """trial_id by (method, beta, gamma, learning_rate, epochs, seed)."""
    return {_key(s): s.trial_id for s in expand(load_study(TOY, list(overrides)))}


def test_expansion_is_the_full_product_in_order():
    specs = expand(load_study(TOY))
    # dpo: 2 beta x 2 lr; ln_dpo: 2 beta x its own 1 lr; simpo: 2 beta x 1 ratio x 2 lr
    assert [s.method for s in specs] == ["dpo"] * 4 + ["ln_dpo"] * 2 + ["simpo"] * 4
    assert [(s.values["beta"], s.values["learning_rate"]) for s in specs[:4]] == [
        (0.05, 1e-4), (0.05, 3e-4), (0.1, 1e-4), (0.1, 3e-4)]
    assert {s.values["learning_rate"] for s in specs if s.method == "ln_dpo"} == {5e-4}
    simpo = [s for s in specs if s.method == "simpo"]
    # gamma is absolute: beta * gamma_beta_ratio = 2.0 * 0.5 and 2.5 * 0.5
    assert [(s.values["beta"], s.values["gamma"], s.values["gamma_beta_ratio"]) for s in simpo] == [
        (2.0, 1.0, 0.5), (2.0, 1.0, 0.5), (2.5, 1.25, 0.5), (2.5, 1.25, 0.5),
    ]
    # each method's trials carry exactly its own axes, in display order, then the shared ones
    assert list(simpo[0].values) == ["beta", "gamma_beta_ratio", "gamma", "learning_rate", "epochs"]
    assert all(list(s.values) == ["beta", "learning_rate", "epochs"] for s in specs if s.method != "simpo")
    assert len({s.trial_id for s in specs}) == len(specs)
    assert all(s.trial_id.startswith(s.method + "-") for s in specs)


def test_same_yaml_same_ids(tmp_path, monkeypatch):
    first = _ids()
    monkeypatch.chdir(tmp_path)  # results_dir resolves elsewhere now: cosmetic
    assert _ids() == first


def test_changing_one_grid_value_changes_only_its_trials():
    before = _ids()
    after = _ids("methods.dpo.beta=[0.05, 0.2]")
    kept = {k: v for k, v in before.items() if not (k[0] == "dpo" and k[1] == 0.1)}
    assert {k: v for k, v in after.items() if k in kept} == kept
    new = set(after) - set(before)
    assert new == {("dpo", 0.2, None, 1e-4, 1, 0), ("dpo", 0.2, None, 3e-4, 1, 0)}
    assert not set(after.values()) & {before[k] for k in set(before) - set(kept)}
    # adding a seed keeps every existing trial's id
    more = _ids("grid.seed=[0, 1]")
    assert {k: v for k, v in more.items() if k in before} == before and len(more) > len(before)


@pytest.mark.parametrize(
    "override",
    [
        "training.batch_size=8",
        "training.max_length=96",
        "generation.max_new_tokens=24",
        "generation.temperature=0.7",
        "data.heldout_pairs=4",
        "policy.dtype=float32",
        "toyworld.world.seed=1",
        "toyworld.sft.epochs=2",
    ],
)
def test_a_result_setting_changes_every_id(override):
    before, after = _ids(), _ids(override)
    assert set(before) == set(after)
    assert not set(before.values()) & set(after.values())


@pytest.mark.parametrize(
    "override",
    [
        "study=renamed",
        "results_dir=/tmp/elsewhere",
        "artifacts_dir=/tmp/artifacts-elsewhere",
        "resources.cpus_per_trial=2",
        "resources.gpus_per_trial=1",
        "ray.address=auto",
        "ray.max_concurrent=3",
        "training.batch_size=4",  # the fixture's value written again
        "training.logging_steps=5",  # a default written out
        "grid.learning_rate=[0.0001, 0.0003]",  # 1e-4 spelt differently
    ],
)
def test_bookkeeping_and_spelling_change_no_id(override):
    assert _ids(override) == _ids()


def test_gamma_absolute_or_as_ratio_is_the_same_trial():
    ratio = _ids()
    absolute = _ids("methods.simpo={beta: [2.0, 2.5], gamma: [1.0, 1.25]}")
    shared = set(ratio) & set(absolute)
    assert {("simpo", 2.0, 1.0, 1e-4, 1, 0), ("simpo", 2.5, 1.25, 1e-4, 1, 0)} <= shared
    assert all(ratio[k] == absolute[k] for k in shared)


def test_trialspec_round_trip_and_loss_kwargs():
    spec = [s for s in expand(load_study(TOY)) if s.method == "simpo"][0]
    assert TrialSpec.from_dict(spec.to_dict()) == spec
    row = spec.to_dict()
    assert list(row)[:6] == ["trial_id", "config_id", "method", "role", "seed", "generation_seed"]
    assert (row["role"], row["generation_seed"]) == ("grid", 0)
    assert spec.hyperparameters() == {
        "beta": 2.0, "gamma_beta_ratio": 0.5, "gamma": 1.0, "learning_rate": 1e-4, "epochs": 1,
    }
    assert OBJECTIVES["simpo"].loss_kwargs(spec.hyperparameters()) == {"beta": 2.0, "gamma": 1.0}
    # a mixed table's row (None where another method's axis is) reads back the same
    assert TrialSpec.from_dict({**row, "label_smoothing": None}) == spec


def test_config_id_is_shared_by_replicates_only():
    specs = expand(load_study(TOY, ["grid.seed=[0, 1, 2]"]))
    by_config: dict[str, list] = {}
    for s in specs:
        by_config.setdefault(s.config_id, []).append(s)
    assert all(len(group) == 3 for group in by_config.values())
    for group in by_config.values():
        assert sorted(s.seed for s in group) == [0, 1, 2]
        assert len({s.trial_id for s in group}) == 3
        assert all(s.values == group[0].values and s.method == group[0].method for s in group)
        assert group[0].config_id.startswith(group[0].method + "-")
    # the trial ids of seed 0 are those of the single-seed study
    single = {s.trial_id for s in expand(load_study(TOY))}
    assert single == {s.trial_id for s in specs if s.seed == 0}


def test_study_hash_and_resolved():
    study = load_study(TOY)
    assert study.hash() == load_study(TOY, ["ray.reuse_actors=false"]).hash()
    assert study.hash() != load_study(TOY, ["judge.name=toy", "generation.top_p=0.9"]).hash()
    resolved = study.resolved()
    assert set(resolved) == set(Study.model_fields)
    assert resolved["methods"]["dpo"] == {"beta": [0.05, 0.1], "learning_rate": [1e-4, 3e-4], "epochs": [1], "seed": [0]}
    assert resolved["plugins"] == []


def test_resolved_config_round_trips_to_the_same_trials():
    import pickle

    from harness.config import validate_study

    study = load_study(TOY)
    again = validate_study(study.resolved(), "study.json")
    assert again.hash() == study.hash()
    assert expand(again) == expand(study)
    assert expand(pickle.loads(pickle.dumps(study))) == expand(study)  # Ray ships it to workers


def test_methods_block_describes_each_methods_axes_as_the_study_gives_them():
    from harness.grid import methods_block

    block = methods_block(load_study(TOY))
    assert list(block) == ["dpo", "ln_dpo", "simpo"]
    assert block["dpo"] == {
        "label": "DPO", "needs_reference": True, "needs_chosen_nll": False,
        "axes": [{"name": "beta", "scale": "log", "label": "β", "derived_from": []},
                 {"name": "learning_rate", "scale": "log", "label": "learning rate", "derived_from": []},
                 {"name": "epochs", "scale": "linear", "label": "epochs", "derived_from": []}],
    }
    simpo = [(a["name"], a["derived_from"]) for a in block["simpo"]["axes"]]
    assert simpo == [("beta", []), ("gamma_beta_ratio", []), ("gamma", ["beta", "gamma_beta_ratio"]),
                     ("learning_rate", []), ("epochs", [])]
    # SimPO's margin given absolutely: gamma is an axis of its own, the ratio is absent
    absolute = methods_block(load_study(TOY, ["methods.simpo={beta: [2.0], gamma: [1.0, 1.5]}"]))
    assert [(a["name"], a["derived_from"]) for a in absolute["simpo"]["axes"]] == [
        ("beta", []), ("gamma", []), ("learning_rate", []), ("epochs", [])]


def test_generation_seed_fixed_or_per_replicate():
    fixed = expand(load_study(TOY, ["grid.seed=[0, 1, 2]", "generation.seed=7"]))
    assert {s.generation_seed for s in fixed} == {7}
    per = expand(load_study(TOY, ["grid.seed=[0, 1, 2]", "generation.seed=per_replicate"]))
    assert all(s.generation_seed == s.seed for s in per) and {s.seed for s in per} == {0, 1, 2}


def test_confirmation_run_ids_differ_from_grid_ids_and_keep_the_config():
    from harness.grid import confirm_spec

    study = load_study(TOY, ["grid.seed=[0, 1]"])
    specs = expand(study)
    grid_ids = {s.trial_id for s in specs}
    spec = specs[0]
    again = confirm_spec(study, spec, spec.seed)  # the same seed as a grid trial: another id
    assert again.trial_id not in grid_ids and again.config_id == spec.config_id
    assert (again.role, again.values) == ("confirm", spec.values)
    assert TrialSpec.from_dict(again.to_dict()) == again
    assert confirm_spec(study, spec, 5).trial_id == confirm_spec(study, spec, 5).trial_id


def test_a_trial_samples_with_its_generation_seed():
    from harness.artifacts import PreparedStudy
    from harness.trial import trial_generation

    def prepared(seed):
        return PreparedStudy(study="s", artifacts_dir="", train_pairs="", heldout_pairs="",
                             eval_prompts="", policy="", judge={"name": "toy"},
                             generation={"seed": seed, "samples_per_prompt": 2})

    per = expand(load_study(TOY, ["grid.seed=[4]", "generation.seed=per_replicate"]))[0]
    cfg = trial_generation(per.to_dict(), prepared("per_replicate"))
    assert (cfg.seed, cfg.samples_per_prompt) == (4, 2)
    assert trial_generation(expand(load_study(TOY))[0].to_dict(), prepared(9)).seed == 0
    # a spec of an older harness (no generation_seed): the study's rule for its training seed
    old = {k: v for k, v in per.to_dict().items() if k != "generation_seed"}
    assert trial_generation(old, prepared("per_replicate")).seed == 4
    assert trial_generation(old, prepared(9)).seed == 9
