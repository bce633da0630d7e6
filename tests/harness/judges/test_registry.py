"""The judge registry: names, options validation, Hub refs, and the offline failure message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from pydantic import ValidationError

from harness.hub import HubRef
from harness.judges import JUDGES, Judge, build_judge, get_judge_spec, judge_refs, parse_judge
from harness.judges.oasst import DEFAULT_MODEL


def test_builtin_judges_are_registered():
    assert {"toy", "reward_model", "oasst"} <= set(JUDGES)
    for name, spec in JUDGES.items():
        assert spec.name == name


def test_unknown_name_lists_the_available_judges():
    with pytest.raises(KeyError, match="unknown judge 'gpt4'.*oasst, reward_model, toy"):
        get_judge_spec("gpt4")
    with pytest.raises(ValueError, match="no 'name' key"):
        build_judge({"model": "x"})


def test_misspelt_option_is_an_error_naming_it():
    with pytest.raises(ValidationError, match="batchsize"):
        parse_judge({"name": "oasst", "batchsize": 8})
    with pytest.raises(ValidationError, match="device"):
        parse_judge({"name": "oasst", "device": "gpu"})
    with pytest.raises(ValidationError, match="model"):
        parse_judge({"name": "reward_model"})  # no default reward model to guess
    with pytest.raises(ValidationError, match="batch_size"):
        parse_judge({"name": "reward_model", "model": "m", "batch_size": 0})


def test_defaults_run():
    spec, options = parse_judge({"name": "oasst"})
    assert options.model == DEFAULT_MODEL and options.batch_size == 16
    assert options.device == "auto" and options.dtype == "float32" and options.max_length is None
    _, options = parse_judge({"name": "reward_model", "model": "org/rm"})
    assert options.trust_remote_code is False and options.template == "auto"


def test_refs_name_the_hub_ids_a_judge_needs():
    assert judge_refs({"name": "toy"}) == []
    assert judge_refs({"name": "oasst", "revision": "abc"}) == [HubRef(DEFAULT_MODEL, "model", "abc")]
    assert judge_refs({"name": "reward_model", "model": "org/rm"}) == [HubRef("org/rm")]


def test_importing_the_registry_loads_neither_torch_nor_transformers():
    code = (
        "import sys, harness.judges as j; j.parse_judge({'name': 'oasst'}); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    "spec, model",
    [({"name": "oasst"}, DEFAULT_MODEL), ({"name": "reward_model", "model": "someorg/not-cached-rm"},
                                          "someorg/not-cached-rm")],
)
def test_offline_uncached_hub_id_fails_naming_the_model_and_the_fix(tmp_path, spec, model):
    # A fresh process: huggingface_hub reads HF_HOME and HF_HUB_OFFLINE when imported.
    code = textwrap.dedent(f"""
        from harness.hub import MissingHubArtifactError
        from harness.judges import build_judge
        try:
            build_judge({spec!r})
        except MissingHubArtifactError as e:
            print(e)
        else:
            raise SystemExit("no error")
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")}
    env.pop("HF_HUB_CACHE", None)
    env.pop("TRANSFORMERS_CACHE", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    message = out.stdout
    assert model in message
    assert f"hf download {model}" in message
    assert "local path" in message


def test_built_judges_satisfy_the_protocol():
    assert isinstance(build_judge({"name": "toy"}), Judge)
