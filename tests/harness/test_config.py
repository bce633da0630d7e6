"""Study config: malformed YAMLs each fail naming the key path, overrides, the shipped sweeps.

The malformed configs live in tests/fixtures/configs/bad_*.yaml; each starts with one or more
``# expect: <text>`` lines, every one of which must appear in the ConfigError message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.config import (
    ConfigError,
    Study,
    apply_override,
    load_study,
    parse_override,
    parse_yaml,
    validate_study,
)

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "tests" / "fixtures" / "configs"
TOY = CONFIGS / "toy_study.yaml"
BAD = sorted(CONFIGS.glob("bad_*.yaml"))


def _expectations(path: Path) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^# expect: (.*)$", path.read_text(), re.M)]


def test_there_are_enough_malformed_configs():
    assert len(BAD) >= 15
    for path in BAD:
        assert _expectations(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_malformed_config_names_the_key(path):
    with pytest.raises(ConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert str(path) in message  # the file is named
    for expected in _expectations(path):
        assert expected in message, f"{expected!r} not in:\n{message}"


def test_error_lists_every_problem_with_its_path():
    raw = parse_yaml(TOY.read_text())
    raw["methods"]["simpo"] = {"beta": [2.0, 0], "gamma": [0.5, 1, -1]}
    raw["training"]["batch_size"] = "four"
    raw["grid"]["epochs"] = [1, -2]
    with pytest.raises(ConfigError) as info:
        validate_study(raw, "x.yaml")
    paths = dict(info.value.errors)
    assert paths == {
        "methods.simpo.beta[1]": "must be > 0, got 0",
        "methods.simpo.gamma[2]": "must be >= 0, got -1",
        "training.batch_size": "Input should be a valid integer, unable to parse string as an integer, got 'four'",
        "grid.epochs[1]": "must be > 0, got -2",
    }
    assert str(info.value).startswith("4 error(s) in x.yaml:")


def test_toy_fixture_validates_and_normalises():
    study = load_study(TOY)
    assert isinstance(study, Study)
    # 1e-4 is a string to PyYAML's YAML 1.1 resolver; the study loader reads it as a float.
    assert study.grid["learning_rate"] == [1e-4, 3e-4]
    assert study.methods["ln_dpo"]["learning_rate"] == [5e-4]
    assert study.axes("simpo") == {
        "beta": [2.0, 2.5], "gamma_beta_ratio": [0.5], "learning_rate": [1e-4, 3e-4], "epochs": [1],
    }
    assert study.seeds("simpo") == [0]
    assert study.results_dir.is_absolute() and study.results_path.name == "fixture_toy"
    assert study.data.train == {"adapter": "toyworld"}
    resolved = study.resolved()
    assert resolved["training"]["batch_size"] == 4 and resolved["training"]["lr_scheduler_type"] == "cosine"
    assert resolved["judge"] == {"name": "toy"}


def test_scalar_axis_is_one_value():
    study = load_study(TOY, ["methods.dpo.beta=0.3"])
    assert study.methods["dpo"]["beta"] == [0.3]


def test_overrides():
    study = load_study(
        TOY,
        [
            "grid.learning_rate[1]=5e-4",  # a list element
            "training.batch_size=8",
            "training.batch_size=2",  # the last override of a key wins
            "training.gradient_checkpointing=true",
            "toyworld.sft.epochs=2",
            "methods.simpo={beta: [3.0], gamma: [0.3]}",  # a whole mapping
            "ray.address=auto",
        ],
    )
    assert study.grid["learning_rate"] == [1e-4, 5e-4]
    assert study.training.batch_size == 2 and study.training.gradient_checkpointing is True
    assert study.toyworld.sft.epochs == 2.0
    assert study.methods["simpo"] == {"beta": [3.0], "gamma": [0.3]}
    assert study.ray.address == "auto"


def test_overrides_leave_the_raw_mapping_alone():
    raw = parse_yaml(TOY.read_text())
    validate_study(raw, "toy", ["training.batch_size=2"])
    assert raw["training"]["batch_size"] == 4


def test_override_creates_missing_mappings():
    raw = {"a": None}
    apply_override(raw, ("a", "b", "c"), 1)
    assert raw == {"a": {"b": {"c": 1}}}


@pytest.mark.parametrize(
    "override,expected",
    [
        ("study.name=x", "study.name: study is a str, not a mapping"),  # bad path: through a scalar
        ("grid.learning_rate[5]=1e-4", "grid.learning_rate[5]: index 5 is out of range"),
        ("grid..seed=1", "bad key path segment ''"),
        ("training.batch size=1", "bad key path segment 'batch size'"),
        ("training.batch_size", "training.batch_size: an override is key.path=value"),
        ("methods.simpo.beta=[2.0", "methods.simpo.beta: cannot parse value '[2.0' as YAML"),
        ("training.batch_size=abc", "training.batch_size: Input should be a valid integer"),  # bad value
        ("training.batch_size=abc", "(from --set training.batch_size=abc)"),
        ("trainig.batch_size=4", "trainig: unknown key (did you mean training?)"),  # misspelt section
        ("methods.dpo.beta=[-1]", "methods.dpo.beta[0]: must be > 0, got -1 (from --set methods.dpo.beta=[-1])"),
        ("methods.dpo.gamma=0.1", "methods.dpo.gamma: not a hyperparameter of dpo"),
        ("data.train.adapter=nope", "data.train.adapter: unknown data adapter (available: "),
        ("judge.name=nope", "judge.name: unknown judge (available: "),
        ("judge.model=x", "judge.model: unknown key (it takes no options)"),
        ("toyworld=null", "policy.model: needs a toyworld: section"),
        ("resources.distributed=deepspeed_zero3", "resources.distributed: needs gpus_per_trial > 0"),
        # the allowed names are the registries' (harness.generate.BACKENDS, distributed.STRATEGIES)
        ("generation.backend=vlm", "generation.backend: unknown generation backend (did you mean vllm?), got 'vlm'"),
        ("resources.distributed=zero3", "resources.distributed: unknown distributed strategy (available: none, fsdp, deepspeed_zero3)"),
        ("grid.beta=[0.1]", "grid.beta: unknown key (available: learning_rate, epochs, seed)"),
        ("methods.rdpo={beta: [0.1], alpha: [0.0, -1]}", "methods.rdpo.alpha[1]: must be >= 0, got -1"),
        ("methods.simpo={beta: [2.0]}", "methods.simpo.gamma: is required (or give gamma_beta_ratio)"),
        ("methods.orpo.lambda=[0.1]", "methods.orpo.lambda: not a hyperparameter of orpo"),
    ],
)
def test_bad_override_names_the_path(override, expected):
    with pytest.raises(ConfigError) as info:
        load_study(TOY, [override])
    assert expected in str(info.value)


def test_override_value_is_yaml():
    assert parse_override("grid.learning_rate=[1e-4, 2.5E-5]") == (("grid", "learning_rate"), [1e-4, 2.5e-5])
    assert parse_override("a.b[2].c=true") == (("a", "b", 2, "c"), True)
    assert parse_override("x=null") == (("x",), None)
    assert parse_override("x=1e") == (("x",), "1e")  # not a number: stays a string
    assert parse_override("x=") == (("x",), None)


def test_yaml_loader_floats_and_duplicates():
    assert parse_yaml("a: 1e-4\nb: -2E3\nc: 3.0e-4\nd: 7\ne: e5\nf: '1e-4'") == {
        "a": 1e-4, "b": -2000.0, "c": 3e-4, "d": 7, "e": "e5", "f": "1e-4",
    }
    with pytest.raises(ConfigError, match="line 3, column 1.*duplicate key 'a'"):
        parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
    # YAML merge keys are not duplicates
    assert parse_yaml("base: &b {x: 1}\nc: {<<: *b, y: 2}")["c"] == {"x": 1, "y": 2}


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read the study file"):
        load_study(CONFIGS / "no_such_study.yaml")


def test_existing_local_paths_are_accepted(tmp_path, monkeypatch):
    (tmp_path / "sft").mkdir()
    (tmp_path / "pairs.jsonl").write_text("")
    monkeypatch.chdir(tmp_path)
    study = load_study(
        TOY,
        ["policy.model=./sft", "data.train={adapter: preference_jsonl, path: ./pairs.jsonl}"],
    )
    assert study.policy.model == str(tmp_path / "sft")  # absolute: survives Ray's chdir
    assert study.data.train == {"adapter": "preference_jsonl", "path": "./pairs.jsonl"}
    assert study.results_dir == tmp_path / "results"


def test_adapter_kind_is_checked():
    from pydantic import BaseModel, ConfigDict

    from harness.data.registry import ADAPTERS, Adapter, register

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

    register(Adapter("test_train_only", Options, load=lambda o, k: None, kinds=("train",)))
    try:
        load_study(TOY, ["data.train.adapter=test_train_only"])
        with pytest.raises(ConfigError, match=r"data.eval.adapter: adapter test_train_only cannot give eval data"):
            load_study(TOY, ["data.eval.adapter=test_train_only"])
    finally:
        ADAPTERS.unregister("test_train_only")


SWEEPS = sorted((REPO / "sweeps").glob("*.yaml"))


@pytest.mark.skipif(not SWEEPS, reason="no sweeps/*.yaml yet")
@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_every_shipped_sweep_validates(path):
    from harness.grid import expand

    study = load_study(path)
    assert study.study
    assert expand(study)


# One invalid value of every own axis of every built-in method, and the message naming its key.
BAD_AXIS_VALUES = {
    ("dpo", "beta"): (0, "must be > 0, got 0"),
    ("ln_dpo", "beta"): (-1.0, "must be > 0, got -1.0"),
    ("simpo", "beta"): ("two", "must be a number, got 'two'"),
    ("simpo", "gamma_beta_ratio"): (-0.5, "must be >= 0, got -0.5"),
    ("simpo", "gamma"): (-1, "must be >= 0, got -1"),
    ("ipo", "beta"): (0.0, "must be > 0, got 0.0"),
    ("robust", "beta"): (-0.1, "must be > 0, got -0.1"),
    ("robust", "label_smoothing"): (0.5, "must be in [0, 0.5), got 0.5"),
    ("hinge", "beta"): (0, "must be > 0, got 0"),
    ("apo_zero", "beta"): (float("inf"), "must be finite, got inf"),
    ("rdpo", "beta"): (0, "must be > 0, got 0"),
    ("rdpo", "alpha"): (-1, "must be >= 0, got -1"),
    ("dpop", "beta"): (0, "must be > 0, got 0"),
    ("dpop", "dpop_lambda"): (-50, "must be >= 0, got -50"),
    ("cpo", "beta"): (0, "must be > 0, got 0"),
    ("cpo", "cpo_alpha"): (-1.0, "must be >= 0, got -1.0"),
    ("orpo", "beta"): (True, "must be a number, got True"),
}


def test_every_built_in_axis_has_a_bad_value_case():
    from builtin_methods import built_in_objectives

    axes = {(m, a.name) for m, o in built_in_objectives().items() for a in o.axes}
    assert set(BAD_AXIS_VALUES) == axes


@pytest.mark.parametrize("method,axis", sorted(BAD_AXIS_VALUES), ids=lambda v: str(v))
def test_a_bad_value_of_any_method_axis_is_a_config_error_naming_its_key(method, axis):
    from harness.objectives import OBJECTIVES

    value, message = BAD_AXIS_VALUES[(method, axis)]
    objective = OBJECTIVES[method]
    # a valid grid for the method (the bad value second in its axis's list), then the bad value
    good = {"beta": 0.1, "gamma_beta_ratio": 0.5, "label_smoothing": 0.1, "alpha": 0.1,
            "dpop_lambda": 5.0, "cpo_alpha": 1.0}
    axes = {a.name: [good[a.name]] for a in objective.axes if a.required and a.name in good}
    if method == "simpo" and axis == "gamma":
        axes = {"beta": [2.0], "gamma": [1.0]}
    axes[axis] = [axes.get(axis, [good.get(axis, 1.0)])[0], value]
    raw = parse_yaml(TOY.read_text())
    raw["methods"] = {method: axes}
    with pytest.raises(ConfigError) as info:
        validate_study(raw, "x.yaml")
    assert info.value.errors == [(f"methods.{method}.{axis}[1]", message)]
