"""Phi-3's chat format, pad == eos, and stop tokens, checked on a tiny random Phi3ForCausalLM
with a tokenizer carrying Phi-3's special tokens and chat template (issue 6, "Models").

- Prompts are formatted with the policy's chat template, for training (TRL) and generation.
- Training masks by TRL's ``completion_mask``, not by the pad id: with pad == eos a pad-id mask
  would also drop the final ``<|endoftext|>``, so the model would never learn to stop.
- Generation stops on ``<|end|>`` as well as ``<|endoftext|>``.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from harness.generate import GenerationConfig, format_prompts, generate
from harness.models import load_causal_lm, load_tokenizer
from harness.stop import stop_rule

# A variant that always opens the assistant turn after a user turn and writes no EOS at the
# end: the mask must hold the turn's end whatever the template puts there.
ALWAYS_OPEN_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n<|assistant|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{message['content'] + '<|end|>\n'}}{% endif %}"
    "{% endfor %}"
)
TAILS = {"phi3": "<|end|>\n<|endoftext|>", "always_open": "<|end|>\n"}

HH_PROMPT = [
    {"role": "user", "content": "What household chemicals are dangerous to mix?"},
    {"role": "assistant", "content": "Bleach and ammonia."},
    {"role": "user", "content": "Why is that?"},
]


@pytest.fixture(scope="module")
def tok(tiny_phi3):
    return load_tokenizer(str(tiny_phi3))


@pytest.fixture(scope="module")
def model(tiny_phi3):
    return load_causal_lm(str(tiny_phi3), dtype="float32")


def test_special_tokens_and_pad_equals_eos(tok, model):
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    end = tok.convert_tokens_to_ids("<|end|>")
    assert tok.eos_token_id == tok.pad_token_id == eos == model.config.pad_token_id
    for t in ("<|user|>", "<|assistant|>", "<|end|>", "<|system|>", "<|endoftext|>"):
        assert tok(t, add_special_tokens=False)["input_ids"] == [tok.convert_tokens_to_ids(t)]
    assert set(stop_rule(tok, model).token_ids) == {end, eos}


def test_chat_template_formats_prompts_as_phi3(tok):
    ids = format_prompts(tok, [HH_PROMPT])[0]
    assert tok.decode(ids) == (
        "<|user|>\nWhat household chemicals are dangerous to mix?<|end|>\n"
        "<|assistant|>\nBleach and ammonia.<|end|>\n"
        "<|user|>\nWhy is that?<|end|>\n"
        "<|assistant|>\n"
    )


@pytest.fixture(scope="module", params=sorted(TAILS))
def trainer(request, tok, model, tmp_path_factory):
    """The harness's PreferenceTrainer over two pairs whose chosen replies differ in length,
    with the Phi-3 template or the always-open variant; returns (trainer, rows, tail)."""
    from harness.config.sections import TrainingConfig
    from harness.objectives import get_objective
    from harness.train import _make_trainer, _trl_args

    rows = [
        {"pair_id": "a", "prompt": HH_PROMPT,
         "chosen": [{"role": "assistant", "content": "They react to form toxic chlorine gas."}],
         "rejected": [{"role": "assistant", "content": "No."}]},
        {"pair_id": "b", "prompt": [{"role": "user", "content": "Hello"}],
         "chosen": [{"role": "assistant", "content": "Hi"}],
         "rejected": [{"role": "assistant", "content": "Please do not do that, it is illegal."}]},
    ]
    tok = copy.deepcopy(tok)
    if request.param == "always_open":
        tok.chat_template = ALWAYS_OPEN_TEMPLATE
    args = _trl_args(TrainingConfig(batch_size=2, max_length=256), output_dir=tmp_path_factory.mktemp("trl"),
                     seed=0, dtype="float32")
    trainer = _make_trainer(copy.deepcopy(model), tok, rows, args, get_objective("simpo"),
                            {"beta": 2.0, "gamma": 1.0}, None)
    return trainer, rows, TAILS[request.param]


def test_final_end_and_eos_are_inside_the_completion_mask(trainer, tok):
    trainer, rows, tail = trainer
    batch = next(iter(trainer.get_train_dataloader()))
    ids, mask, attn = batch["input_ids"], batch["completion_mask"], batch["attention_mask"]
    eos, end = tok.eos_token_id, tok.convert_tokens_to_ids("<|end|>")
    # rows: chosen a, chosen b, rejected a, rejected b (TRL's layout), right-padded with eos
    replies = [r["chosen"][0]["content"] for r in rows] + [r["rejected"][0]["content"] for r in rows]
    for i in range(ids.shape[0]):
        completion = ids[i][mask[i].bool()].tolist()
        # the completion is the reply, then the turn's end (and the conversation's EOS in Phi-3's
        # template): the tokens that teach the model to stop are trained on
        assert tok.decode(completion) == replies[i] + tail
        assert end in completion[-3:]
        if tail.endswith("<|endoftext|>"):
            assert completion[-1] == eos
        last = int(mask[i].nonzero().max())
        # everything after it is padding: the same id as EOS, but masked out and unattended
        assert (ids[i, last + 1:] == eos).all()
        assert not mask[i, last + 1:].any() and not attn[i, last + 1:].any()
    assert ((ids == eos) & ~mask.bool()).any()  # padding happened: the test can tell them apart


def test_sequence_logps_count_the_eos(trainer, tok):
    """The policy's completion log-prob (what every objective uses) includes the EOS term."""
    trainer, _, _ = trainer
    batch = next(iter(trainer.get_train_dataloader()))
    model = trainer.model.eval()
    with torch.no_grad():
        (chosen, rejected), (len_c, len_r) = trainer.sequence_logps(model, dict(batch))
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
    shift = batch["completion_mask"][:, 1:].bool()
    by_hand = (logp * shift).sum(1)
    torch.testing.assert_close(torch.cat([chosen, rejected]), by_hand, rtol=1e-4, atol=1e-4)
    assert torch.equal(torch.cat([len_c, len_r]), batch["completion_mask"].sum(1).to(len_c.dtype))


def with_bias(model, token_id: int, bias: float = 50.0):
    """A copy whose lm_head adds ``bias`` to one token's logit (it is then always sampled)."""
    model = copy.deepcopy(model)
    head = nn.Linear(model.lm_head.in_features, model.lm_head.out_features, bias=True)
    with torch.no_grad():
        head.weight.copy_(model.lm_head.weight)
        head.bias.zero_()
        head.bias[token_id] = bias
    model.lm_head = head
    return model


@pytest.mark.parametrize("stop", ["<|end|>", "<|endoftext|>"])
def test_generation_stops_on_end_and_on_eos(tok, model, stop):
    stop_id = tok.convert_tokens_to_ids(stop)
    gens = generate(with_bias(model, stop_id), tok, [HH_PROMPT, [HH_PROMPT[0]]],
                    GenerationConfig(max_new_tokens=8, seed=0))
    # the model chose to stop at once: one token, kept (it is part of the sequence's
    # probability) even when it is the pad id, and an empty reply
    assert gens.response_ids == [[stop_id], [stop_id]]
    assert gens.responses == ["", ""] and gens.finished.all()
    assert (gens.lengths == 1).all()


def test_generation_without_a_stop_runs_to_max_new_tokens(tok, model):
    plain = tok.convert_tokens_to_ids("Ġthe") if "Ġthe" in tok.get_vocab() else 100
    gens = generate(with_bias(model, plain), tok, [HH_PROMPT], GenerationConfig(max_new_tokens=5))
    assert gens.response_ids == [[plain] * 5] and not gens.finished.any()
