"""GPTNeoXRewardModel (Open-Assistant's class on transformers 5): pooling, padding, registration."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer, GPTNeoXConfig

from harness.judges.gpt_neox_reward import GPTNeoXRewardModel, GPTNeoXRewardModelConfig
from harness.judges.oasst import oasst_text

TEXTS = [
    ([{"role": "user", "content": "hello world how are you today"}], "i am fine thanks"),
    ([{"role": "user", "content": "the dog ran"}], "the cat sat on the mat and the dog ran"),
]
PAD = 7  # a real token id on purpose: the attention mask, not the pad id, must hide padding


def scores_under_padding(model, a: list[int], b: list[int], pad: int = 5) -> dict[str, float]:
    """Score of ``a`` alone, right-padded, left-padded, and left-padded beside ``b``."""
    n = len(a)
    with torch.inference_mode():
        out = {"alone": model(torch.tensor([a])).logits[0, 0].item()}
        out["alone_masked"] = model(
            torch.tensor([a]), attention_mask=torch.ones(1, n, dtype=torch.long)
        ).logits[0, 0].item()
        out["right"] = model(
            torch.tensor([a + [PAD] * pad]), attention_mask=torch.tensor([[1] * n + [0] * pad])
        ).logits[0, 0].item()
        out["left"] = model(
            torch.tensor([[PAD] * pad + a]), attention_mask=torch.tensor([[0] * pad + [1] * n])
        ).logits[0, 0].item()
        width = max(len(b), n + pad)
        starts = torch.tensor([[width - n], [width - len(b)]])
        batch = torch.tensor([[PAD] * (width - n) + a, [PAD] * (width - len(b)) + b])
        mask = (torch.arange(width) >= starts).long()
        out["left_mixed_batch"] = model(batch, attention_mask=mask).logits[0, 0].item()
    return out


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_same_score_under_left_right_and_no_padding(make_oasst_checkpoint, pooling):
    folder, body, head = make_oasst_checkpoint(pooling=pooling)
    model = GPTNeoXRewardModel.from_pretrained(folder).eval()
    assert model.pooling == pooling
    tokenizer = AutoTokenizer.from_pretrained(folder)
    a, b = (tokenizer(oasst_text(p, r), add_special_tokens=False)["input_ids"] for p, r in TEXTS)
    with torch.no_grad():
        hidden = body(torch.tensor([a])).last_hidden_state[0]
        pooled = hidden[-1] if pooling == "last" else hidden.mean(dim=0)
        expected = head(pooled).item()
    for how, score in scores_under_padding(model, a, b).items():
        assert score == pytest.approx(expected, abs=1e-5), how


def test_last_pooling_reads_the_last_real_token_of_each_row():
    # upstream's index argmax(cumsum(mask)) on hand-made masks: right, left, none, both sides
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 0, 0]])
    assert mask.cumsum(dim=1).argmax(dim=1).tolist() == [2, 4, 4, 2]


def test_config_pooling_default_and_validation():
    assert GPTNeoXRewardModelConfig().pooling == "last"
    assert GPTNeoXRewardModelConfig(pooling=None).pooling == "last"  # upstream: pooling or "last"
    assert GPTNeoXRewardModelConfig.model_type == "gpt_neox_reward_model"
    with pytest.raises(ValueError, match="pooling"):
        GPTNeoXRewardModelConfig(pooling="max")


def test_plain_gpt_neox_config_is_upgraded_like_upstream():
    cfg = GPTNeoXConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32,
    )
    model = GPTNeoXRewardModel(cfg)
    assert isinstance(model.config, GPTNeoXRewardModelConfig) and model.config.pooling == "last"
    assert model.out_proj.out_features == 1 and model.out_proj.bias is not None


def test_auto_classes_know_the_reward_model(make_oasst_checkpoint):
    from transformers import AutoConfig, AutoModelForSequenceClassification

    folder, _, _ = make_oasst_checkpoint()
    assert isinstance(AutoConfig.from_pretrained(folder), GPTNeoXRewardModelConfig)
    assert isinstance(AutoModelForSequenceClassification.from_pretrained(folder), GPTNeoXRewardModel)
