"""sweeps/saferlhf_1gpu.yaml and sweeps/byo.yaml (issue 12, "What must hold" 4): both validate
and dry-run offline with a GPU-hour estimate; byo.yaml runs end to end on its example data with
a tiny random Qwen2.5-style policy (LoRA, as the file says) and a tiny reward model."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from chat_families import FAMILIES, save_family
from tiny_models import build_tokenizer

from harness import cost
from harness.config import load_study, parse_yaml
from harness.grid import expand

REPO = Path(__file__).resolve().parents[2]
ONE_GPU = REPO / "sweeps" / "saferlhf_1gpu.yaml"
BYO = REPO / "sweeps" / "byo.yaml"


def _dry_run(path: Path, tmp_path: Path) -> str:
    home = tmp_path / "hf_home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HOME=str(home), PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "harness.sweep", str(path), "--dry-run",
                           "--results", str(tmp_path / "results")], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "results").exists()
    return proc.stdout


def _gpu_hours(out: str) -> tuple[float, int, int]:
    m = re.search(r"estimated cost: ([\d,.]+) GPU-hours for (\d+) trials, (\d+) GPU\(s\)", out)
    assert m, out
    return float(m.group(1).replace(",", "")), int(m.group(2)), int(m.group(3))


def test_one_gpu_study_is_a_day_on_one_gpu_of_a_small_non_phi3_model(tmp_path):
    study = load_study(ONE_GPU)
    assert "phi" not in study.policy.model.lower()
    assert 0.5e9 <= cost._parameters(study.policy.model) <= 4e9
    assert study.judge["name"] == "oasst"  # the paper's judge and data
    assert study.data.train["path"] == "PKU-Alignment/PKU-SafeRLHF"
    assert study.data.eval["path"] == "Anthropic/hh-rlhf"
    r = study.resources
    assert r.gpus_per_trial == 1 and r.workers_per_trial == 1
    memory = cost.train_memory(study.policy.model, study.training)
    assert memory.total_gib < 75  # fits an 80 GB GPU
    out = _dry_run(ONE_GPU, tmp_path)
    hours, n, gpus = _gpu_hours(out)
    assert n == len(expand(study)) and gpus == 1
    assert 12 <= hours <= 36  # about a day on one GPU
    assert "training memory per GPU (full fine-tune)" in out


def test_byo_validates_and_dry_runs_offline(tmp_path):
    study = load_study(BYO)
    assert study.data.train["adapter"] == "preference_jsonl"
    assert study.judge["name"] == "reward_model"
    assert study.training.peft is not None
    out = _dry_run(BYO, tmp_path)
    hours, n, _ = _gpu_hours(out)
    assert n == len(expand(study)) and hours > 0
    assert "rows of the local files" in out and "(LoRA)" in out


@pytest.fixture(scope="module")
def tiny_reward_model(tmp_path_factory) -> Path:
    """A tiny random GPT-NeoX sequence-classification reward model (one output)."""
    import torch
    from transformers import AutoTokenizer, GPTNeoXConfig, GPTNeoXForSequenceClassification

    root = tmp_path_factory.mktemp("rm")
    tok_dir = build_tokenizer(root / "tok")
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    torch.manual_seed(0)
    model = GPTNeoXForSequenceClassification(GPTNeoXConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_labels=1, pad_token_id=tok.pad_token_id))
    model.save_pretrained(root / "rm")
    tok.save_pretrained(root / "rm")
    return root / "rm"


def test_byo_runs_end_to_end_on_its_example_data(tmp_path, tiny_reward_model, monkeypatch):
    from harness.sweep import main

    policy = save_family(FAMILIES["qwen2_5"], tmp_path / "policy")
    raw = copy.deepcopy(parse_yaml(BYO.read_text()))
    raw.update(results_dir=str(tmp_path / "results"), artifacts_dir=str(tmp_path / "artifacts"))
    raw["policy"] = {"model": str(policy), "dtype": "float32"}
    raw["judge"].update(model=str(tiny_reward_model), batch_size=8)
    raw["generation"].update(max_new_tokens=12, batch_size=8)
    raw["training"].update(batch_size=4, gradient_accumulation_steps=1, logging_steps=1,
                           max_length=256, warmup_ratio=0.0)
    raw["grid"] = {"learning_rate": [1e-3], "epochs": [1], "seed": [0]}
    raw["methods"] = {"dpo": {"beta": [0.1, 0.2, 0.3]}, "simpo": {"beta": [2.0],
                                                                 "gamma_beta_ratio": [0.5]}}
    raw["resources"] = {"cpus_per_trial": 1}
    raw["ray"] = {"max_concurrent": 2}
    path = tmp_path / "byo.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(REPO)  # the example data paths are relative to the repo root
    assert main([str(path)]) == 0

    results = tmp_path / "results" / "byo"
    trials = pd.read_parquet(results / "trials.parquet")
    samples = pd.read_parquet(results / "samples.parquet")
    assert len(trials) == 4 and (trials["status"] == "ok").all(), trials["error"].tolist()
    assert len(samples) == 4 * 8  # every example eval prompt, every trial
    assert samples["prompt_id"].str.startswith("eval-").all()
    # the 2 best LoRA policies of DPO kept (adapters only); SimPO's single trial too
    kept = trials.dropna(subset=["policy_path"])
    assert sorted(kept["method"]) == ["dpo", "dpo", "simpo"]
    for folder in kept["policy_path"]:
        names = {p.name for p in Path(folder).iterdir()}
        assert "adapter_model.safetensors" in names and "model.safetensors" not in names
