"""Generation: stop tokens, prompts kept out of responses, empty replies, seeded sampling, and
log-probs that do not depend on batching or on the sampling temperature.

A tiny random Phi3ForCausalLM over the toy world's word-level tokenizer (Phi-3 chat tokens).
To control lengths, lm_head gets a bias towards a stop token: bias b on one token of a
near-uniform 368-word vocabulary stops each step with probability about e^b / (e^b + 367).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tiny_models import tiny_phi3, with_stop_bias

from harness.generate import (
    BACKENDS,
    GenerationConfig,
    format_prompts,
    generate,
    get_backend,
    load_policy,
    token_logps,
)
from harness.hub import MissingHubArtifactError
from harness.toyworld.config import WorldConfig
from harness.toyworld.data import build_data
from harness.stop import stop_rule
from harness.toyworld.tokenizer import build_tokenizer
from harness.toyworld.world import vocabulary


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(vocabulary())


@pytest.fixture(scope="module")
def model(tok):
    return tiny_phi3(tok)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tok, model):
    folder = tmp_path_factory.mktemp("tiny_phi3")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def prompts():
    data = build_data(WorldConfig(n_train_prompts=4, n_eval_prompts=6))
    return [r["prompt"] for r in data.eval_prompts]


def end_id(tok) -> int:
    return tok.convert_tokens_to_ids("<|end|>")


def test_stops_at_stop_tokens_and_excludes_prompt(tok, model, prompts):
    stops = set(stop_rule(tok, model).token_ids)
    assert stops == {end_id(tok), tok.eos_token_id}
    biased = with_stop_bias(model, end_id(tok), 3.0)  # ~5% stop per step
    cfg = GenerationConfig(max_new_tokens=10, batch_size=3, seed=1)
    g = generate(biased, tok, prompts * 2, cfg)
    assert len(g) == 12
    assert g.prompt_ids == format_prompts(tok, prompts * 2)
    assert g.finished.any() and not g.finished.all()  # both outcomes exercised
    for ids, text, done in zip(g.response_ids, g.responses, g.finished):
        assert 1 <= len(ids) <= cfg.max_new_tokens
        # no stop token before the end; the last token is one iff the policy stopped
        assert not stops & set(ids[:-1])
        assert (ids[-1] in stops) == bool(done)
        if not done:
            assert len(ids) == cfg.max_new_tokens
        # text: decoded response tokens only, without stop/special tokens
        body = ids[:-1] if done else ids
        assert text == tok.decode(body, skip_special_tokens=True).strip()
        assert "<|" not in text
    assert g.lengths.tolist() == [len(r) for r in g.response_ids]


def test_empty_response_is_the_stop_token_alone(tok, model, prompts):
    for stop in (end_id(tok), tok.eos_token_id):  # Phi-3 stops on <|end|> and on <|endoftext|>
        g = generate(with_stop_bias(model, stop, 50.0), tok, prompts, {"max_new_tokens": 8})
        assert g.response_ids == [[stop]] * len(prompts)
        assert g.responses == [""] * len(prompts)
        assert g.finished.all() and g.lengths.tolist() == [1] * len(prompts)
        # the prompt is not part of the response: it has no token of it
        assert all(len(p) > 1 for p in g.prompt_ids)


def test_logps_match_unpadded_single_prompt_forward(tok, model, prompts):
    """Batched generation left-pads; the sampled tokens' log-probs must equal those of an
    unpadded forward pass over that prompt alone, at temperature 1 even when sampling at 0.7."""
    g = generate(model, tok, prompts, {"max_new_tokens": 8, "batch_size": 6, "temperature": 0.7})
    assert len({len(p) for p in g.prompt_ids}) > 1  # padding really happened
    ranks = []
    for p, r, lp in zip(g.prompt_ids, g.response_ids, g.logps):
        ids = torch.tensor([p + r])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, len(p) - 1 : -1]
        ref = torch.log_softmax(logits.double(), -1).gather(-1, torch.tensor(r)[:, None])[:, 0]
        np.testing.assert_allclose(lp, ref.numpy(), atol=1e-4)
        ranks += (logits > logits.gather(-1, torch.tensor(r)[:, None])).sum(-1).tolist()
    # full-vocabulary sampling: transformers' default top_k=50 is switched off. Over a near
    # uniform 368-token vocabulary, 48 draws all inside the top 50 has chance ~0.14**48.
    assert max(ranks) >= 50
    # and the batched teacher-forced pass agrees with itself at any batch size
    a = token_logps(model, g.prompt_ids, g.response_ids, batch_size=4, pad_id=tok.pad_token_id)
    b = token_logps(model, g.prompt_ids, g.response_ids, batch_size=1, pad_id=tok.pad_token_id)
    for x, y, lp in zip(a, b, g.logps):
        np.testing.assert_allclose(x, y, atol=1e-5)
        np.testing.assert_allclose(x, lp, atol=1e-4)


def test_sampling_is_seeded_and_leaves_global_rng_alone(tok, model, prompts):
    cfg = {"max_new_tokens": 6, "batch_size": 4, "seed": 3}
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = generate(model, tok, prompts, cfg)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = generate(model, tok, prompts, cfg)
    c = generate(model, tok, prompts, {**cfg, "seed": 4})
    assert a.response_ids == b.response_ids
    assert a.response_ids != c.response_ids


def test_greedy_is_argmax(tok, model, prompts):
    g = generate(model, tok, prompts[:2], {"max_new_tokens": 4, "temperature": 0.0})
    for p, r in zip(g.prompt_ids, g.response_ids):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([p + r])).logits[0, len(p) - 1 : -1]
        assert logits.argmax(-1).tolist() == r


def test_backend_registry_and_vllm_error_path(tok, model, prompts):
    assert set(BACKENDS) == {"hf", "vllm"}
    assert get_backend("hf").name == "hf"
    with pytest.raises(KeyError, match="unknown generation backend 'nope'; available: hf, vllm"):
        get_backend("nope")
    # no vllm (or no GPU) here: selecting it must fail clearly, before any work
    with pytest.raises(RuntimeError, match="vllm"):
        generate(model, tok, prompts, {"backend": "vllm"})
    with pytest.raises(ValueError, match="max_new_token"):
        GenerationConfig.from_any({"max_new_token": 3})


def test_load_policy_folder_missing_folder_and_offline_hub_id(saved, monkeypatch):
    model, tok = load_policy(saved, device="cpu")
    assert model.config.vocab_size == len(tok)
    with pytest.raises(FileNotFoundError, match="no_such_model"):
        load_policy(saved.parent / "no_such_model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingHubArtifactError, match="download po-harness-test/not-cached-model"):
        load_policy("po-harness-test/not-cached-model")


def test_prompts_given_as_parquet_arrays_or_strings(tok):
    msgs = [{"role": "user", "content": "how do i cook rice"}]
    as_array = np.array(msgs, dtype=object)
    assert format_prompts(tok, [as_array]) == format_prompts(tok, [msgs]) == format_prompts(
        tok, ["how do i cook rice"]
    )
    with pytest.raises(ValueError, match="prompt 1"):
        format_prompts(tok, [msgs, []])
