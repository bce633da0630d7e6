"""Stop tokens come from the model (issue 12, "What must hold" 1).

Five chat families (tests/fixtures/chat_families.py: the real templates and special tokens of
Llama-3, Qwen2.5, Gemma-2, Mistral and Phi-3 over tiny tokenizers and tiny random models of
each architecture). A policy whose checkpoint names only its EOS token (the common case that
made Llama-3/Gemma policies sample to max_new_tokens) is biased towards its family's
end-of-turn token: its replies must be short and finished, their text must not hold the token,
and length, log-probs and KL must be over exactly the tokens generated, the stop token included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from chat_families import FAMILIES, build_model, build_tokenizer
from tiny_models import with_stop_bias

from harness.evaluate import build_baseline, evaluate_policy
from harness.generate import GenerationConfig, generate
from harness.stop import StopRule, end_of_turn_tokens, generation_eos_ids, stop_rule

PROMPTS = [
    [{"role": "user", "content": "How can I help my neighbour?"}],
    [{"role": "user", "content": "Boil water?"}],
    [{"role": "user", "content": "Please give me some safe steps."},
     {"role": "assistant", "content": "Talk to a friend."},
     {"role": "user", "content": "And then?"}],
    [{"role": "user", "content": "Is that illegal?"}],
]
MAX_NEW = 24
# bias 6 on one token of a ~400-token near-uniform vocabulary: it is drawn with probability
# ~e^6 / (e^6 + 400) ~ 0.5 per step, so a reply runs MAX_NEW tokens without it with ~0.5**24.
BIAS = 6.0


class LengthJudge:
    """A stand-in gold judge: the reply's length in characters (any deterministic score does)."""

    def score(self, prompts, responses):
        return np.array([float(len(r)) for r in responses])


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    f = FAMILIES[request.param]
    tok = build_tokenizer(f)
    return f, tok, build_model(f, tok)


def test_the_template_names_the_end_of_turn(family):
    f, tok, model = family
    eot = tok.convert_tokens_to_ids(f.end_of_turn)
    assert end_of_turn_tokens(tok) == [f.end_of_turn]
    # without any model: the tokenizer's EOS and the template's end of turn
    assert set(stop_rule(tok).token_ids) == {eot, tok.eos_token_id}
    # with the model: its generation_config's list as well (Phi-3 also lists <|assistant|>)
    listed = {tok.convert_tokens_to_ids(t) for t in f.generation_eos}
    assert generation_eos_ids(model) == [tok.convert_tokens_to_ids(t) for t in f.generation_eos]
    assert set(stop_rule(tok, model).token_ids) == listed | {eot, tok.eos_token_id}


def test_a_policy_biased_to_end_its_turn_stops_there(family, tmp_path):
    """Must hold 1: short finished replies, text without the token, KL/length over the same
    tokens, for a checkpoint whose generation_config names only the tokenizer's EOS."""
    f, tok, model = family
    eot = tok.convert_tokens_to_ids(f.end_of_turn)
    sft = model
    policy = with_stop_bias(model, eot, BIAS)
    policy.generation_config.eos_token_id = tok.eos_token_id  # the end of turn is not listed
    cfg = GenerationConfig(max_new_tokens=MAX_NEW, batch_size=3, seed=0)
    gens = generate(policy, tok, PROMPTS, cfg)

    assert gens.finished.all()
    for ids, text in zip(gens.response_ids, gens.responses):
        assert ids[-1] == eot and eot not in ids[:-1]  # stopped at the first end of turn
        assert len(ids) < MAX_NEW  # short: not sampled to the limit
        assert f.end_of_turn not in text
        assert text == tok.decode(ids[:-1], skip_special_tokens=True).strip()

    eval_df = pd.DataFrame({"prompt_id": [f"p{i}" for i in range(len(PROMPTS))],
                            "prompt": PROMPTS, "chosen": ["Talk to a friend."] * len(PROMPTS)})
    judge = LengthJudge()
    base = build_baseline(sft, tok, eval_df, judge, cfg, tmp_path / "baseline.parquet",
                          judge_spec={"name": "length"})
    ev = evaluate_policy(policy, tok, sft, eval_df, base, judge, cfg, "biased")
    # the samples hold the same replies, lengths counted over the tokens generated
    assert ev.samples["response"].tolist() == gens.responses
    assert ev.samples["length"].tolist() == [len(ids) for ids in gens.response_ids]
    assert ev.samples["finished"].all()
    # Both KLs over the same positions (stop token included), recomputed here from one unpadded
    # forward pass per reply: kl_sample = sum of log pi - log pi_sft of the sampled tokens, kl
    # the sum of the full-vocabulary KLs
    for i, (p, r) in enumerate(zip(gens.prompt_ids, gens.response_ids)):
        x = torch.tensor([p + r])
        with torch.no_grad():
            lp = torch.log_softmax(policy(input_ids=x).logits[0, len(p) - 1:-1].double(), -1)
            ls = torch.log_softmax(sft(input_ids=x).logits[0, len(p) - 1:-1].double(), -1)
        idx = torch.tensor(r)[:, None]
        kl_sample = float((lp.gather(-1, idx) - ls.gather(-1, idx)).sum())
        kl = float((lp.exp() * (lp - ls)).sum())
        assert ev.samples["kl_sample"].iloc[i] == pytest.approx(kl_sample, abs=1e-3)
        assert ev.samples["kl"].iloc[i] == pytest.approx(kl, abs=1e-3)
        assert ev.samples["kl_per_token"].iloc[i] == pytest.approx(kl / len(r), abs=1e-3)


def test_stop_strings_end_a_reply_and_are_cut_from_its_text():
    f = FAMILIES["phi3"]
    tok = build_tokenizer(f)
    word = next(t for t in tok.get_vocab() if t == "Ġhelp")
    word_id = tok.convert_tokens_to_ids(word)
    policy = with_stop_bias(build_model(f, tok), word_id, BIAS)
    cfg = GenerationConfig(max_new_tokens=MAX_NEW, seed=1, stop_strings=["help"])
    gens = generate(policy, tok, PROMPTS, cfg)
    assert gens.finished.all()
    for ids, text in zip(gens.response_ids, gens.responses):
        assert ids[-1] == word_id and word_id not in ids[:-1]
        assert "help" not in text
        assert tok.decode(ids, skip_special_tokens=True).strip().startswith(text)
        assert len(gens.logps[gens.response_ids.index(ids)]) == len(ids)


def test_stop_token_ids_replace_the_models_stops():
    f = FAMILIES["qwen2_5"]
    tok = build_tokenizer(f)
    eot = tok.convert_tokens_to_ids(f.end_of_turn)
    policy = with_stop_bias(build_model(f, tok), eot, 50.0)  # always <|im_end|>
    plain = tok.convert_tokens_to_ids("Ġthe")
    gens = generate(policy, tok, PROMPTS[:2],
                    GenerationConfig(max_new_tokens=5, stop_token_ids=[plain]))
    assert not gens.finished.any()  # <|im_end|> no longer stops a reply
    assert gens.response_ids == [[eot] * 5] * 2
    assert gens.responses == ["", ""]  # special tokens never reach the text


def test_a_template_without_an_end_token_and_no_stop_at_all():
    f = FAMILIES["mistral"]
    tok = build_tokenizer(f)
    tok.chat_template = ("{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\n\n' }}"
                         "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}")
    assert end_of_turn_tokens(tok) == []  # plain text closes the turn: nothing to stop on
    assert stop_rule(tok).token_ids == (tok.eos_token_id,)
    tok.eos_token = None
    with pytest.raises(ValueError, match="stop_token_ids or generation.stop_strings"):
        stop_rule(tok)
    assert stop_rule(tok, cfg=GenerationConfig(stop_strings=["\n\n"])) == StopRule((), ("\n\n",))


def test_split_and_text_by_hand():
    f = FAMILIES["phi3"]
    tok = build_tokenizer(f)
    end = tok.convert_tokens_to_ids("<|end|>")
    ids = tok("Talk to a friend. Then call", add_special_tokens=False)["input_ids"]
    rule = StopRule((end,), ("friend",))
    cut, stopped = rule.split(tok, ids + [end])
    assert stopped and tok.decode(cut).endswith("friend")  # the string stopped it first
    assert rule.reply_text(tok, cut) == "Talk to a"
    assert StopRule((end,)).split(tok, ids + [end, 5]) == (ids + [end], True)
    assert StopRule((end,)).split(tok, ids) == (ids, False)
