"""``plugins:``: a method registered by a user module works like a built-in (issue 11, "What must
hold" 1, harness side): validated by the config, expanded into trials whose ids carry its new
hyperparameter, trained in Ray workers that import the module themselves, recorded in
trials.parquet and described in study.json.

The plugin is tests/fixtures/tau_method.py: ``tau_dpo`` with the axis ``tau``, a name no built-in
method uses. tests/fixtures is on the test process's sys.path (tests/conftest.py) and on no Ray
worker's, so a trial finds the module only through what the sweep ships to its workers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.config import ConfigError, load_study
from harness.grid import expand
from harness.objectives import OBJECTIVES
from sweep_helpers import tiny_study

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOY = FIXTURES / "configs" / "toy_study.yaml"
PLUGIN = ["plugins=[tau_method]", "methods={tau_dpo: {tau: [0.5, 2.0]}, dpo: {beta: [0.1]}}"]


def test_the_plugin_is_a_few_lines_and_no_built_in_uses_its_axis():
    assert len((FIXTURES / "tau_method.py").read_text().splitlines()) < 30
    built_in = {a.name for o in OBJECTIVES.values() if o.name != "tau_dpo" for a in o.all_axes()}
    assert "tau" not in built_in


def test_a_plugin_method_is_validated_and_expanded_like_a_built_in():
    study = load_study(TOY, PLUGIN)
    assert study.plugins == ["tau_method"] and "tau_dpo" in OBJECTIVES
    specs = [s for s in expand(study) if s.method == "tau_dpo"]
    assert [s.values["tau"] for s in specs] == [0.5, 0.5, 2.0, 2.0]  # x 2 learning rates
    assert len({s.trial_id for s in specs}) == 4 and len({s.config_id for s in specs}) == 4
    # tau is in the id: one tau value alone gives the same ids as within the two-value grid
    alone = expand(load_study(TOY, ["plugins=[tau_method]", "methods={tau_dpo: {tau: [2.0]}}"]))
    assert {s.trial_id for s in alone} == {s.trial_id for s in specs if s.values["tau"] == 2.0}
    with pytest.raises(ConfigError) as info:
        load_study(TOY, ["plugins=[tau_method]", "methods={tau_dpo: {tau: [1.0, -1]}}"])
    assert "methods.tau_dpo.tau[1]: must be > 0, got -1" in str(info.value)


def test_without_the_plugins_key_the_method_is_unknown():
    """In a fresh process (this one has imported the plugin): the module is importable, but a
    study that does not name it under plugins: cannot use its method."""
    import subprocess
    import sys

    code = (
        f"import sys; sys.path.insert(0, {str(FIXTURES)!r})\n"
        "from harness.config import ConfigError, load_study\n"
        f"try: load_study({str(TOY)!r}, ['methods={{tau_dpo: {{tau: [0.5]}}}}'])\n"
        "except ConfigError as e: print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "methods.tau_dpo: unknown method" in out.stdout, out.stdout + out.stderr


def test_an_unimportable_plugin_is_a_config_error_naming_its_index():
    with pytest.raises(ConfigError) as info:
        load_study(TOY, ["plugins=[json, no_such_module_for_po_harness]"])
    assert ("plugins[1]: cannot import module 'no_such_module_for_po_harness': "
            "ModuleNotFoundError: No module named 'no_such_module_for_po_harness'") in str(info.value)
    with pytest.raises(ConfigError, match=r"plugins: must be a list of module names"):
        load_study(TOY, ["plugins=tau_method"])


def test_a_plugin_whose_import_raises_is_a_config_error(tmp_path, monkeypatch):
    (tmp_path / "broken_plugin_for_test.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"plugins\[0\]: cannot import module 'broken_plugin_for_test': "
                                          r"RuntimeError: boom"):
        load_study(TOY, ["plugins=[broken_plugin_for_test]"])


@pytest.fixture(scope="module")
def plugin_sweep(tiny_world, tiny_world_config, tmp_path_factory):
    """A tiny study of the plugin method alone, run end to end by the sweep (Ray Tune)."""
    from harness.sweep import main

    root = tmp_path_factory.mktemp("plugin")
    path = tiny_study(
        root, tiny_world, tiny_world_config, name="tau", plugins=["tau_method"],
        generation={"max_new_tokens": 16, "batch_size": 8},
        training={"batch_size": 8, "max_length": 96, "logging_steps": 2},
        grid={"learning_rate": [3e-4]},
        methods={"tau_dpo": {"tau": [0.5, 2.0]}},
        ray={"max_concurrent": 2},
    )
    assert main([str(path)]) == 0
    return load_study(path)


def test_plugin_method_runs_end_to_end_with_its_axis_recorded(plugin_sweep):
    results = plugin_sweep.results_path
    specs = expand(plugin_sweep)
    trials = pd.read_parquet(results / "trials.parquet")
    # trained and evaluated in Ray workers, which imported the plugin themselves
    assert (trials["status"] == "ok").all(), trials[["trial_id", "status", "error"]].to_dict("records")
    assert sorted(trials["trial_id"]) == sorted(s.trial_id for s in specs)
    # tau is a column of trials.parquet, and two tau values are two trial ids (and configs)
    assert sorted(trials["tau"]) == [0.5, 2.0]
    assert trials["trial_id"].nunique() == 2 and trials["config_id"].nunique() == 2
    assert "beta" not in trials.columns  # only the study's methods' axes are columns
    info = json.loads((results / "study.json").read_text())
    block = info["methods"]["tau_dpo"]
    assert block["label"] == "τ-DPO" and block["needs_reference"] is True
    assert block["axes"][0] == {"name": "tau", "scale": "log", "label": "τ", "derived_from": []}
    assert [a["name"] for a in block["axes"]] == ["tau", "learning_rate", "epochs"]
    assert info["config"]["plugins"] == ["tau_method"]


def test_a_registered_default_is_a_recorded_axis():
    """An axis with a default that a study leaves out is still an axis of the grid: in the
    trial values, the id and study.json (here a throwaway method registered for the test)."""
    from harness.grid import methods_block
    from harness.objectives import Axis, Objective, non_negative, positive, register_objective

    def loss(batch, *, beta, kappa):
        raise AssertionError("not trained here")

    register_objective(Objective("kappa_test", "κ", loss, (
        Axis("beta", positive, "log", "β"), Axis("kappa", non_negative, "linear", "κ", default=0.5)),
        needs_reference=False))
    try:
        study = load_study(TOY, ["methods={kappa_test: {beta: [1.0]}}"])
        (spec,) = [s for s in expand(study) if s.values["learning_rate"] == 1e-4]
        assert spec.values["kappa"] == 0.5
        assert [a["name"] for a in methods_block(study)["kappa_test"]["axes"]] == [
            "beta", "kappa", "learning_rate", "epochs"]
        other = expand(load_study(TOY, ["methods={kappa_test: {beta: [1.0], kappa: [0.7]}}"]))
        assert spec.trial_id not in {s.trial_id for s in other}
    finally:
        OBJECTIVES.unregister("kappa_test")
