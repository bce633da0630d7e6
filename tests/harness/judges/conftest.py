"""Tiny offline fixtures for the judge tests: a byte-level BPE tokenizer with the
Open-Assistant special tokens, and tiny random reward models saved in upstream layouts.

Weights are drawn with a large init std so that scores vary visibly between texts (with the
usual 0.02 every text scores nearly the same and a broken pooling would go unnoticed).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from torch import nn

SPECIALS = ["<|endoftext|>", "<|padding|>", "<|prompter|>", "<|assistant|>", "<s>"]
CORPUS = [
    "hello world how are you today",
    "i am fine thanks for asking",
    "the cat sat on the mat and the dog ran",
    "please give me some tips for cooking pasta",
    "boil water add salt then the pasta",
] * 3
INIT_STD = 0.5

# GPT-NeoX config as the OpenAssistant checkpoints write it (transformers 4.x key names).
NEOX_CONFIG = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "rotary_pct": 0.25,
    "rotary_emb_base": 10000,
    "max_position_embeddings": 128,
    "layer_norm_eps": 1e-5,
    "use_parallel_residual": True,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "tie_word_embeddings": False,
    "initializer_range": 0.02,
    "use_cache": True,
}


def build_tokenizer(folder: Path, *, bos: bool = False, chat_template: str | None = None,
                    tokenizer_class: str = "GPTNeoXTokenizer", padding_side: str = "right") -> Path:
    """A tiny byte-level BPE (GPT-NeoX's kind) saved like a Hub tokenizer."""
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>" if bos else "<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|padding|>",
        padding_side=padding_side,
    )
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(folder)
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tokenizer_class"] = tokenizer_class
    cfg_path.write_text(json.dumps(cfg))
    return folder


def copy_tokenizer(src: Path, dest: Path) -> None:
    for f in src.iterdir():
        shutil.copy(f, dest / f.name)


@pytest.fixture(scope="session")
def neox_tokenizer_dir(tmp_path_factory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("neox_tokenizer"))


@pytest.fixture(scope="session")
def vocab_size(neox_tokenizer_dir) -> int:
    from transformers import AutoTokenizer

    return len(AutoTokenizer.from_pretrained(neox_tokenizer_dir))


def upstream_reward_state(vocab_size: int, seed: int = 0):
    """(GPTNeoXModel body, out_proj Linear, state dict in Open-Assistant's key layout)."""
    from transformers import GPTNeoXConfig, GPTNeoXModel

    torch.manual_seed(seed)
    body = GPTNeoXModel(GPTNeoXConfig(vocab_size=vocab_size, **NEOX_CONFIG)).eval()
    with torch.no_grad():
        for name, p in body.named_parameters():
            if "norm" not in name:
                p.normal_(0.0, INIT_STD)
    head = nn.Linear(NEOX_CONFIG["hidden_size"], 1)
    state = {f"gpt_neox.{k}": v.clone() for k, v in body.state_dict().items()}
    state["out_proj.weight"] = head.weight.detach().clone()
    state["out_proj.bias"] = head.bias.detach().clone()
    return body, head, state


@pytest.fixture
def make_oasst_checkpoint(tmp_path, neox_tokenizer_dir, vocab_size):
    """Write a tiny Open-Assistant-style reward model checkpoint; returns (folder, body, head)."""

    def make(fmt: str = "bin", *, drop: tuple[str, ...] = (), extra: dict | None = None,
             model_type: str = "gpt_neox_reward_model", pooling: str = "last", name: str = "rm"):
        folder = tmp_path / name
        folder.mkdir()
        body, head, state = upstream_reward_state(vocab_size)
        state = {k: v for k, v in state.items() if not any(k.startswith(d) for d in drop)}
        state.update(extra or {})
        if fmt == "bin":
            torch.save(state, folder / "pytorch_model.bin")
        else:
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in state.items()},
                      str(folder / "model.safetensors"), metadata={"format": "pt"})
        config = {
            "architectures": ["GPTNeoXRewardModel"],
            "model_type": model_type,
            "pooling": pooling,
            "vocab_size": vocab_size,
            **NEOX_CONFIG,
            "torch_dtype": "float32",
            "transformers_version": "4.28.0.dev0",
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        copy_tokenizer(neox_tokenizer_dir, folder)
        return folder, body, head

    return make
