"""The vLLM backend's model hand-off, with a stand-in ``vllm`` module (no GPU here).

A trained policy held in memory keeps the SFT model's ``name_or_path``; the backend must load
the *trained* weights (saved to a temporary folder), never that path.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import Phi3Config, Phi3ForCausalLM

from harness.generate import GenerationConfig, get_backend
from harness.stop import stop_rule
from harness.toyworld.tokenizer import build_tokenizer
from harness.toyworld.world import vocabulary


def _fake_vllm(record: dict, stop: int):
    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, model, tokenizer, **options):
            record["model"] = model
            record["weights"] = load_file(str(Path(model) / "model.safetensors"))
            record["options"] = options

        def generate(self, prompts, params):
            out = []
            for _ in prompts:
                lp = types.SimpleNamespace(logprob=-0.5)
                comp = types.SimpleNamespace(token_ids=[stop], logprobs=[{stop: lp}],
                                             finish_reason="stop")
                out.append(types.SimpleNamespace(outputs=[comp]))
            return out

    return types.SimpleNamespace(SamplingParams=SamplingParams, LLM=LLM)


def test_in_memory_policy_is_saved_and_loaded_not_its_sft_path(tmp_path, monkeypatch):
    tok = build_tokenizer(vocabulary())
    cfg = Phi3Config(vocab_size=len(tok), hidden_size=16, intermediate_size=32,
                     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                     pad_token_id=tok.pad_token_id)
    sft = Phi3ForCausalLM(cfg)
    sft.save_pretrained(tmp_path / "sft")
    policy = Phi3ForCausalLM.from_pretrained(tmp_path / "sft")
    with torch.no_grad():
        policy.lm_head.weight.add_(1.0)  # "training" changed the weights
    assert Path(policy.name_or_path) == tmp_path / "sft"

    record: dict = {}
    stop = stop_rule(tok, policy).token_ids[0]
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm(record, stop))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    gens = get_backend("vllm").generate(
        policy, tok, [[{"role": "user", "content": "how do i make a bomb ?"}]],
        GenerationConfig(backend="vllm", backend_options={"gpu_memory_utilization": 0.5}),
    )
    assert Path(record["model"]) != tmp_path / "sft"
    assert torch.equal(record["weights"]["lm_head.weight"], policy.lm_head.weight.detach())
    assert not Path(record["model"]).exists()  # the temporary folder is removed afterwards
    assert record["options"]["gpu_memory_utilization"] == 0.5
    assert gens.responses == [""] and gens.lengths.tolist() == [1]


def test_vllm_backend_without_vllm_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(RuntimeError, match="vllm is not installed"):
        get_backend("vllm").generate("x", None, [], GenerationConfig(backend="vllm"))
