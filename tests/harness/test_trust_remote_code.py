"""``policy.trust_remote_code`` reaches every loader of the policy (issue 10): a policy folder
with its own modelling code (``auto_map`` in config.json, a model type transformers does not
know) runs a whole DPO study only when every load passes the setting (reference log-probs,
SFT baseline, training, the trial's SFT copy for the KL); without it, one error line."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from harness.sweep import main

CONFIG_PY = '''from transformers import Phi3Config


class CustomPhi3Config(Phi3Config):
    model_type = "custom_phi3"
'''
MODELING_PY = '''from transformers import Phi3ForCausalLM

from .configuration_custom import CustomPhi3Config


class CustomPhi3ForCausalLM(Phi3ForCausalLM):
    config_class = CustomPhi3Config
'''


@pytest.fixture()
def remote_code_study(tmp_path, tiny_world):
    policy = tmp_path / "custom-policy"
    shutil.copytree(tiny_world / "sft", policy)
    (policy / "configuration_custom.py").write_text(CONFIG_PY)
    (policy / "modeling_custom.py").write_text(MODELING_PY)
    config = json.loads((policy / "config.json").read_text())
    config.update(model_type="custom_phi3", architectures=["CustomPhi3ForCausalLM"],
                  auto_map={"AutoConfig": "configuration_custom.CustomPhi3Config",
                            "AutoModelForCausalLM": "modeling_custom.CustomPhi3ForCausalLM"})
    (policy / "config.json").write_text(json.dumps(config, indent=2))

    def write(trust: bool):
        path = tmp_path / f"remote-{trust}.yaml"
        path.write_text(yaml.safe_dump({
            "study": "remote", "results_dir": str(tmp_path / f"results-{trust}"),
            "artifacts_dir": str(tmp_path / "artifacts"),
            "data": {"train": {"adapter": "preference_jsonl", "max_rows": 32,
                               "path": str(tiny_world / "train_pairs.jsonl"),
                               "columns": {"id": "pair_id"}},
                     "eval": {"adapter": "preference_jsonl", "max_rows": 8,
                              "path": str(tiny_world / "eval_prompts.jsonl"),
                              "columns": {"id": "prompt_id"}},
                     "heldout_pairs": 4},
            "policy": {"model": str(policy), "dtype": "float32", "trust_remote_code": trust},
            "judge": {"name": "toy"},
            "generation": {"max_new_tokens": 8, "batch_size": 8},
            "training": {"batch_size": 8, "max_length": 96},
            "grid": {"learning_rate": [1e-4]},
            "methods": {"dpo": {"beta": [0.1]}},
            "ray": {"max_concurrent": 1},
        }))
        return path

    return write


def test_custom_code_policy_needs_the_setting_and_then_runs_everywhere(remote_code_study, capsys):
    assert main([str(remote_code_study(False)), "--prepare-only"]) == 2
    err = capsys.readouterr().err
    assert "error: policy.trust_remote_code:" in err and "Traceback" not in err

    path = remote_code_study(True)
    assert main([str(path)]) == 0
    import pandas as pd

    results = yaml.safe_load(path.read_text())["results_dir"]
    trials = pd.read_parquet(f"{results}/remote/trials.parquet")
    assert list(trials["status"]) == ["ok"], trials["error"].tolist()
