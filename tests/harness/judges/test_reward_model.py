"""The ``reward_model`` judge on tiny random sequence-classification models saved locally."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from harness.judges import build_judge
from harness.judges.loading import JudgeLoadError
from harness.judges.reward_model import plain_text

from .conftest import INIT_STD, build_tokenizer

TEMPLATE = "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}<|endoftext|>{% endfor %}"
PROMPTS = [
    [{"role": "user", "content": "hello world how are you today"}],
    [{"role": "user", "content": "please give me some tips for cooking pasta"}],
    [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "i am fine"},
        {"role": "user", "content": "tips for pasta"},
    ],
    [{"role": "user", "content": "the cat"}],
    [{"role": "user", "content": "the dog ran"}],
]
RESPONSES = ["i am fine thanks", "boil water add salt then the pasta", "boil water", "",
             "the cat sat on the mat and the dog ran and ran"]


def tiny_config(arch: str, vocab_size: int, pad_token_id, num_labels: int = 1):
    from transformers import GPTNeoXConfig, LlamaConfig

    common = dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=64, max_position_embeddings=128, num_labels=num_labels,
                  pad_token_id=pad_token_id)
    if arch == "llama":
        return LlamaConfig(num_key_value_heads=2, **common)
    return GPTNeoXConfig(**common)


def save_model(folder, arch, tokenizer_dir, *, pad_token_id="tokenizer", num_labels=1,
               causal_lm=False, seed=0):
    """A tiny random (sequence-classification or causal-LM) model plus tokenizer in ``folder``."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    pad = tokenizer.pad_token_id if pad_token_id == "tokenizer" else pad_token_id
    config = tiny_config(arch, len(tokenizer), pad, num_labels)
    torch.manual_seed(seed)
    auto = AutoModelForCausalLM if causal_lm else AutoModelForSequenceClassification
    model = auto.from_config(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.normal_(0.0, INIT_STD)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


@pytest.fixture(scope="module")
def tokenizers_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("rm_tokenizers")
    return {
        "chat": build_tokenizer(root / "chat", bos=True, chat_template=TEMPLATE,
                                tokenizer_class="PreTrainedTokenizerFast"),
        "plain": build_tokenizer(root / "plain", bos=True, tokenizer_class="PreTrainedTokenizerFast"),
        "plain_left": build_tokenizer(root / "plain_left", bos=True, padding_side="left",
                                      tokenizer_class="PreTrainedTokenizerFast"),
    }


def reference(model, tokenizer, texts, add_special_tokens):
    """Independent score: the model on the unpadded ids, batch of one, its own pooling."""
    with torch.no_grad():
        return np.array([
            model(torch.tensor([tokenizer(t, add_special_tokens=add_special_tokens)["input_ids"]]))
            .logits[0, 0].item()
            for t in texts
        ])


def judge_for(folder, **options):
    return build_judge({"name": "reward_model", "model": str(folder), "device": "cpu", **options})


def test_plain_text_is_the_hh_rlhf_transcript():
    assert plain_text(PROMPTS[2], "ok") == (
        "\n\nSystem: be nice\n\nHuman: hello\n\nAssistant: i am fine"
        "\n\nHuman: tips for pasta\n\nAssistant: ok"
    )
    assert plain_text(PROMPTS[3], "") == "\n\nHuman: the cat\n\nAssistant: "


@pytest.mark.parametrize("arch", ["llama", "gpt_neox"])
def test_with_chat_template_scores_the_templated_conversation(tmp_path, tokenizers_dir, arch):
    model, tokenizer = save_model(tmp_path, arch, tokenizers_dir["chat"])
    judge = judge_for(tmp_path, batch_size=2)
    scores = judge.score(PROMPTS, RESPONSES)
    texts = [
        "<s>[user] hello world how are you today<|endoftext|>[assistant] i am fine thanks<|endoftext|>",
        "<s>[user] please give me some tips for cooking pasta<|endoftext|>"
        "[assistant] boil water add salt then the pasta<|endoftext|>",
        "<s>[system] be nice<|endoftext|>[user] hello<|endoftext|>[assistant] i am fine<|endoftext|>"
        "[user] tips for pasta<|endoftext|>[assistant] boil water<|endoftext|>",
        "<s>[user] the cat<|endoftext|>[assistant] <|endoftext|>",
        "<s>[user] the dog ran<|endoftext|>[assistant] the cat sat on the mat and the dog ran and ran"
        "<|endoftext|>",
    ]
    expected = reference(model, tokenizer, texts, add_special_tokens=False)
    assert scores.dtype == np.float64 and scores.shape == (5,)
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-5)
    assert np.ptp(scores) > 0.1


@pytest.mark.parametrize("arch", ["llama", "gpt_neox"])
def test_without_chat_template_scores_the_plain_format(tmp_path, tokenizers_dir, arch):
    model, tokenizer = save_model(tmp_path, arch, tokenizers_dir["plain"])
    scores = judge_for(tmp_path, batch_size=4).score(PROMPTS, RESPONSES)
    texts = [plain_text(p, r) for p, r in zip(PROMPTS, RESPONSES)]
    assert tokenizer(texts[0])["input_ids"][0] == tokenizer.convert_tokens_to_ids("<s>")
    np.testing.assert_allclose(scores, reference(model, tokenizer, texts, True), rtol=0, atol=1e-5)


def test_template_option_forces_a_format(tmp_path, tokenizers_dir):
    model, tokenizer = save_model(tmp_path, "llama", tokenizers_dir["chat"])
    scores = judge_for(tmp_path, template="plain").score(PROMPTS, RESPONSES)
    texts = [plain_text(p, r) for p, r in zip(PROMPTS, RESPONSES)]
    np.testing.assert_allclose(scores, reference(model, tokenizer, texts, True), rtol=0, atol=1e-5)
    (tmp_path / "chat_template.jinja").unlink()
    with pytest.raises(JudgeLoadError, match="has none"):
        judge_for(tmp_path, template="chat_template")


def test_batching_padding_side_and_repeat_do_not_change_scores(tmp_path, tokenizers_dir):
    save_model(tmp_path / "right", "llama", tokenizers_dir["plain"])
    save_model(tmp_path / "left", "llama", tokenizers_dir["plain_left"])
    s1 = judge_for(tmp_path / "right", batch_size=1).score(PROMPTS, RESPONSES)
    judge4 = judge_for(tmp_path / "right", batch_size=4)
    s4 = judge4.score(PROMPTS, RESPONSES)
    np.testing.assert_allclose(s1, s4, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(judge4.score(PROMPTS, RESPONSES), s4)
    s_left = judge_for(tmp_path / "left", batch_size=4).score(PROMPTS, RESPONSES)
    np.testing.assert_allclose(s_left, s4, rtol=0, atol=1e-5)


def test_empty_response_is_scored_and_counted(tmp_path, tokenizers_dir):
    save_model(tmp_path, "llama", tokenizers_dir["chat"])
    judge = judge_for(tmp_path)
    scores = judge.score(PROMPTS, RESPONSES)
    assert len(scores) == 5 and np.isfinite(scores).all()
    assert judge.last_stats == {"n": 5, "n_empty": 1, "n_truncated": 0}
    only_empty = judge.score([PROMPTS[0]], [""])
    assert only_empty.shape == (1,) and np.isfinite(only_empty).all()


def test_config_without_pad_id_gets_the_tokenizers(tmp_path, tokenizers_dir):
    model, tokenizer = save_model(tmp_path, "llama", tokenizers_dir["plain"], pad_token_id=None)
    judge = judge_for(tmp_path, batch_size=4)
    assert judge.pad_id == tokenizer.pad_token_id == judge.model.config.pad_token_id
    s4 = judge.score(PROMPTS, RESPONSES)
    s1 = judge_for(tmp_path, batch_size=1).score(PROMPTS, RESPONSES)
    np.testing.assert_allclose(s1, s4, rtol=0, atol=1e-5)


def test_truncation_drops_the_start_and_keeps_bos_and_the_reply(tmp_path, tokenizers_dir):
    model, tokenizer = save_model(tmp_path, "llama", tokenizers_dir["plain"])
    judge = judge_for(tmp_path, max_length=6)
    ids = tokenizer(plain_text(PROMPTS[1], RESPONSES[1]))["input_ids"]
    assert len(ids) > 6 and ids[0] == tokenizer.convert_tokens_to_ids("<s>")
    kept = [ids[0]] + ids[-5:]  # BOS, then the last 5 tokens
    with torch.no_grad():
        expected = model(torch.tensor([kept])).logits[0, 0].item()
    assert judge.score(PROMPTS[1:2], RESPONSES[1:2])[0] == pytest.approx(expected, abs=1e-5)
    assert judge.last_stats["n_truncated"] == 1


def test_a_causal_lm_checkpoint_fails_naming_the_random_head(tmp_path, tokenizers_dir):
    save_model(tmp_path, "llama", tokenizers_dir["plain"], causal_lm=True)
    with pytest.raises(JudgeLoadError, match=r"score\.weight"):
        judge_for(tmp_path)


def test_multi_output_head_is_refused(tmp_path, tokenizers_dir):
    save_model(tmp_path, "llama", tokenizers_dir["plain"], num_labels=2)
    with pytest.raises(JudgeLoadError, match="num_labels=2"):
        judge_for(tmp_path)


def test_trust_remote_code_is_off_unless_asked(tmp_path, tokenizers_dir, monkeypatch):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer as AT

    save_model(tmp_path, "llama", tokenizers_dir["plain"])
    seen = []
    for cls in (AutoModelForSequenceClassification, AT):
        original = cls.from_pretrained.__func__

        def spy(klass, *args, _original=original, **kwargs):
            seen.append(kwargs.get("trust_remote_code"))
            return _original(klass, *args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    judge_for(tmp_path)
    assert seen == [False, False]
    seen.clear()
    judge_for(tmp_path, trust_remote_code=True)
    assert seen == [True, True]


def test_scoring_is_batched_under_inference_mode(tmp_path, tokenizers_dir):
    save_model(tmp_path, "llama", tokenizers_dir["chat"])
    judge = judge_for(tmp_path, batch_size=2)
    seen = []
    judge.model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(
            (kwargs["input_ids"].shape[0], torch.is_inference_mode_enabled())
        ),
        with_kwargs=True,
    )
    judge.score(PROMPTS, RESPONSES)
    assert seen == [(2, True), (2, True), (1, True)]
