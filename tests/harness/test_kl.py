"""The exact per-response KL (issue 13, what must hold 4) on tiny random Phi-3 models over the
toy world's tokenizer: non-negative for every response, equal to a brute-force per-position
loop, and unbiased for the same sequence KL as the sampled-token estimate."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from harness.generate import GenerationConfig, generate, pad_token_id
from harness.kl import position_kl, response_kl
from harness.toyworld.tokenizer import build_tokenizer
from harness.toyworld.world import vocabulary
from tiny_models import tiny_phi3, with_stop_bias


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(vocabulary())


@pytest.fixture(scope="module")
def models(tok):
    """(sft, policy): a random model biased to stop now and then, and a perturbed copy."""
    torch.manual_seed(0)
    sft = with_stop_bias(tiny_phi3(tok), tok.convert_tokens_to_ids("<|end|>"), 3.0)
    policy = copy.deepcopy(sft)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.2 * p.std() * torch.randn(p.shape, generator=gen))
    return sft, policy


PROMPTS = [[{"role": "user", "content": t}] for t in
           ("how do i cook rice", "tell me about cats", "is the stove safe", "help me plan")]


def brute_force_kl(policy, sft, prompt, response) -> float:
    """sum over response positions of sum_v p (log p - log q), one position at a time, in
    float64, on a single unpadded sequence, no clamp."""
    total = 0.0
    ids = list(prompt)
    for token in response:
        with torch.no_grad():
            lp = torch.log_softmax(policy(input_ids=torch.tensor([ids])).logits[0, -1], -1)
            lq = torch.log_softmax(sft(input_ids=torch.tensor([ids])).logits[0, -1], -1)
        total += float((lp.exp() * (lp - lq)).sum())
        ids.append(token)
    return total


def test_exact_kl_equals_a_brute_force_loop_in_float64(tok, models):
    sft, policy = (m.double() for m in copy.deepcopy(models))
    cfg = GenerationConfig(max_new_tokens=6, batch_size=3, seed=3, samples_per_prompt=2)
    gens = generate(policy, tok, PROMPTS, cfg)
    assert len(gens) == 8 and len(set(gens.lengths)) > 1  # mixed lengths: padding is exercised
    got = response_kl(policy, sft, gens.prompt_ids, gens.response_ids, 3, pad_token_id(tok))
    want = [brute_force_kl(policy, sft, p, r) for p, r in zip(gens.prompt_ids, gens.response_ids)]
    np.testing.assert_allclose(got.kl, want, rtol=0, atol=1e-6)
    # the SFT log-probs of the sampled tokens come out of the same pass
    for p, r, lp in zip(gens.prompt_ids, gens.response_ids, got.sft_logps):
        with torch.no_grad():
            logits = sft(input_ids=torch.tensor([p + r])).logits[0, len(p) - 1 : -1]
        ref = torch.log_softmax(logits, -1).gather(-1, torch.tensor(r)[:, None])[:, 0]
        np.testing.assert_allclose(lp, ref.numpy(), atol=1e-9)


def test_exact_kl_is_non_negative_and_zero_against_itself(tok, models):
    sft, policy = models
    cfg = GenerationConfig(max_new_tokens=8, batch_size=16, seed=0, samples_per_prompt=16)
    gens = generate(policy, tok, PROMPTS, cfg)
    out = response_kl(policy, sft, gens.prompt_ids, gens.response_ids, 16, pad_token_id(tok))
    assert out.kl.shape == (64,) and (out.kl >= 0).all() and (out.kl > 0).all()
    same = response_kl(sft, sft, gens.prompt_ids, gens.response_ids, 16, pad_token_id(tok))
    assert (same.kl == 0).all()
    # per position, on logits far apart and on nearly equal ones (rounding), never below 0
    a = torch.randn(200, 50) * 5
    for b in (torch.randn(200, 50) * 5, a + 1e-6 * torch.randn(200, 50)):
        kl, _ = position_kl(a, b)
        assert (kl >= 0).all()


def test_exact_kl_mean_matches_the_sampled_token_estimate(tok, models):
    """Both estimate the same sequence KL: the mean of their per-response difference is within
    4 standard errors of 0 (400 samples; the exact KL's spread is the smaller one)."""
    sft, policy = models
    cfg = GenerationConfig(max_new_tokens=6, batch_size=100, seed=11, samples_per_prompt=100)
    gens = generate(policy, tok, PROMPTS, cfg)
    out = response_kl(policy, sft, gens.prompt_ids, gens.response_ids, 100, pad_token_id(tok))
    sample = gens.logp_sums - out.sft_logp_sums
    diff = sample - out.kl
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    assert abs(diff.mean()) < 4 * se, (diff.mean(), se)
    assert out.kl.std() < sample.std()  # lower variance (Rao-Blackwellised)
    assert (sample < 0).any()  # the sampled-token estimate can be negative; the exact one not
