"""LoRA trials (issue 12, "What must hold" 3) on the tiny world.

A DPO trial with ``training.peft``: only adapter weights are saved, the base weights stay the
SFT model's, KL and reward accuracy are finite, and DPO's reference (the shared cache, computed
from the SFT model) equals the trained policy with its adapters disabled, to 1e-5.
"""

from __future__ import annotations

import math
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from harness.config.sections import PeftSettings, TrainingConfig
from harness.io import read_jsonl
from harness.keep import keep_policy
from harness.lora import adapter_rank, base_model_path, is_peft_model, trainable_parameters
from harness.train import to_trl_rows, train_policy

PEFT = PeftSettings(r=4, alpha=8.0, dropout=0.0, target_modules="all-linear")
TRAINING = TrainingConfig(batch_size=4, max_length=128, warmup_ratio=0.0,
                          lr_scheduler_type="constant", logging_steps=2, peft=PEFT)


@pytest.fixture(scope="module")
def sft_path(tiny_world) -> str:
    return str(tiny_world / "sft")


@pytest.fixture(scope="module")
def pairs(tiny_world) -> pd.DataFrame:
    return pd.DataFrame(read_jsonl(tiny_world / "train_pairs.jsonl")).iloc[:24]


@pytest.fixture(scope="module")
def reference(sft_path, pairs) -> dict:
    from harness.reference import compute_reference

    return compute_reference(sft_path, pairs, TRAINING, dtype="float32")


@pytest.fixture(scope="module")
def trained(sft_path, pairs, reference, tmp_path_factory):
    return train_policy(
        method="dpo", hparams={"beta": 0.1, "learning_rate": 1e-2, "epochs": 2}, seed=0,
        training=TRAINING, policy_path=sft_path, train_pairs=pairs.iloc[:16],
        heldout_pairs=pairs.iloc[16:], reference=reference,
        output_dir=tmp_path_factory.mktemp("lora"), dtype="float32", tensorboard=False,
    )


def test_only_the_adapters_train_and_only_they_are_saved(trained, sft_path, tmp_path):
    from transformers import AutoModelForCausalLM

    assert trained.status == "ok" and is_peft_model(trained.model)
    assert adapter_rank(trained.model) == PEFT.r
    assert Path(base_model_path(trained.model)) == Path(sft_path)
    assert math.isfinite(trained.metrics["reward_accuracy"])
    assert math.isfinite(trained.metrics["train_loss"])

    row = {"trial_id": "dpo-lora", "method": "dpo", "status": "ok", "mean_score": 1.0}
    folder = keep_policy(trained.model, None, row, "all", tmp_path)
    files = {p.name for p in folder.iterdir()}
    assert "adapter_model.safetensors" in files and "adapter_config.json" in files
    assert not any(n.startswith("model") and n.endswith(".safetensors") for n in files)
    saved = load_file(str(folder / "adapter_model.safetensors"))
    assert saved and all("lora_" in k for k in saved)  # adapter weights only
    # the base is unchanged: every non-adapter weight equals the SFT checkpoint's
    sft = AutoModelForCausalLM.from_pretrained(sft_path, dtype=torch.float32)
    base = trained.model.get_base_model().state_dict()
    for name, value in sft.state_dict().items():
        key = next(k for k in (name, name.replace(".weight", ".base_layer.weight"))
                   if k in base)
        assert torch.equal(base[key].float(), value), name
    # and the adapters did train (B starts at zero)
    assert any(float(v.abs().max()) > 0 for k, v in saved.items() if "lora_B" in k)
    # loadable as a peft model over its base
    from peft import AutoPeftModelForCausalLM

    reloaded = AutoPeftModelForCausalLM.from_pretrained(str(folder))
    assert is_peft_model(reloaded)


def test_reference_is_the_base_with_adapters_disabled(trained, sft_path, pairs, reference,
                                                     tmp_path):
    """The cached reference log-probs (from the SFT folder) == the trained LoRA policy with its
    adapters disabled, pair by pair, tokenized exactly as in training; with adapters on they
    differ (the policy moved)."""
    from harness.models import load_causal_lm, load_tokenizer
    from harness.objectives import get_objective
    from harness.preference_trainer import _batches, _prepared
    from harness.train import _make_trainer, _trl_args

    rows = to_trl_rows(pairs)
    args = _trl_args(TRAINING, output_dir=tmp_path, seed=0, dtype="float32")
    # a trainer only for its tokenization and collator (as harness.reference builds the cache)
    tok_trainer = _make_trainer(load_causal_lm(sft_path, dtype="float32"),
                                load_tokenizer(sft_path), rows[:1], args, get_objective("dpo"),
                                {"beta": 0.1}, reference=None)
    ds = _prepared(tok_trainer, rows, "reference", with_reference=False)
    policy = trained.model.eval()
    off, on = [], []
    with torch.no_grad():
        for batch in _batches(tok_trainer, ds):
            with policy.disable_adapter():
                (c, r), _ = tok_trainer.sequence_logps(policy, batch)
            off += list(zip(c.tolist(), r.tolist()))
            (c, r), _ = tok_trainer.sequence_logps(policy, batch)
            on += list(zip(c.tolist(), r.tolist()))
    cached = np.array([reference[i] for i in ds["pair_id"]])
    np.testing.assert_allclose(np.array(off), cached, atol=1e-5, rtol=0)
    assert np.abs(np.array(on) - cached).max() > 1e-3


def test_a_lora_policy_evaluates_with_finite_kl(trained, sft_path, tiny_world, tmp_path):
    from harness.evaluate import build_baseline, evaluate_policy
    from harness.judges import build_judge
    from harness.models import load_causal_lm, load_tokenizer

    eval_df = pd.DataFrame(read_jsonl(tiny_world / "eval_prompts.jsonl")).iloc[:8]
    sft, tok = load_causal_lm(sft_path, dtype="float32"), load_tokenizer(sft_path)
    cfg = {"max_new_tokens": 16, "batch_size": 8}
    base = build_baseline(sft, tok, eval_df, {"name": "toy"}, cfg,
                          tmp_path / "baseline.parquet")
    ev = evaluate_policy(trained.model, tok, sft, eval_df, base, build_judge({"name": "toy"}),
                         cfg, "dpo-lora")
    assert np.isfinite(ev.samples["kl"]).all() and math.isfinite(ev.metrics["mean_kl"])
    assert ev.samples["kl"].abs().max() > 0  # the adapters changed the policy


def test_vllm_gets_the_base_folder_and_the_adapter(trained, sft_path, monkeypatch):
    """With a stand-in vllm: the base loads from the SFT folder, the adapter as a LoRARequest."""
    from harness.generate import GenerationConfig, get_backend
    from harness.models import load_tokenizer

    record: dict = {}

    class LLM:
        def __init__(self, model, tokenizer, **options):
            record.update(model=model, options=options)

        def generate(self, prompts, params, lora_request=None):
            record["lora"] = lora_request
            record["adapter_files"] = sorted(p.name for p in Path(lora_request.path).iterdir())
            lp = types.SimpleNamespace(logprob=-1.0)
            comp = types.SimpleNamespace(token_ids=[7, 1], logprobs=[{7: lp}, {1: lp}])
            return [types.SimpleNamespace(outputs=[comp]) for _ in prompts]

    class LoRARequest:
        def __init__(self, name, int_id, path):
            self.name, self.int_id, self.path = name, int_id, path

    fake = types.SimpleNamespace(SamplingParams=lambda **kw: kw, LLM=LLM)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setitem(sys.modules, "vllm.lora", types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, "vllm.lora.request",
                        types.SimpleNamespace(LoRARequest=LoRARequest))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    tok = load_tokenizer(sft_path)
    gens = get_backend("vllm").generate(trained.model, tok, [[{"role": "user", "content": "hi"}]],
                                        GenerationConfig(backend="vllm"))
    assert Path(record["model"]) == Path(sft_path)
    assert record["options"]["enable_lora"] is True and record["options"]["max_lora_rank"] == 8
    assert "adapter_model.safetensors" in record["adapter_files"]
    assert gens.lengths.tolist() == [2]


def test_cost_model_counts_the_adapter():
    shape = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2}
    # q, o: 64 -> 64; k, v: 64 -> 32; gate, up: 64 -> 128; down: 128 -> 64; rank 4, 2 blocks
    per_block = 4 * (2 * (64 + 64) + 2 * (64 + 32) + 3 * (64 + 128))
    assert trainable_parameters(shape, PEFT) == 2 * per_block
    only_q = PeftSettings(r=4, target_modules=["q_proj"])
    assert trainable_parameters(shape, only_q) == 2 * 4 * 128
