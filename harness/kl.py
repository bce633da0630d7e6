"""The exact KL of each sampled response from the SFT model, and the sampled-token estimate's
SFT term, from one teacher-forced pass of each model.

For a response ``y`` to prompt ``x`` sampled from the policy ``pi_theta``::

    kl(y) = sum_t KL(pi_theta(. | x, y<t) || pi_sft(. | x, y<t))
          = sum_t sum_v pi_theta(v | x, y<t) [log pi_theta(v | x, y<t) - log pi_sft(v | x, y<t)]

over the response positions t (the stop token's included), each term a full-vocabulary KL of
the two next-token distributions at temperature 1. Its expectation over ``y ~ pi_theta`` is the
sequence KL ``KL(pi_theta(. | x) || pi_sft(. | x))``, the same as that of the sampled-token
estimate ``kl_sample = sum_t log pi_theta(y_t) - log pi_sft(y_t)`` (the chain rule: the inner
sum over v is the conditional expectation of the sampled-token term given the prefix), but each
term is a KL, so ``kl >= 0`` for every response and its variance is lower (Rao-Blackwellised
over the last token of each prefix; Schulman 2020, "Approximating KL divergence"). Both need
samples from the policy at temperature 1 and top_p 1 to estimate the sequence KL.

Cost: one extra forward pass of the policy over ``prompt + response`` (the SFT pass is the one
the sampled-token estimate needs anyway; its log-probs of the sampled tokens are returned here,
so the SFT model runs once). Only the response positions' logits are computed
(``logits_to_keep``), and the float32 work is done on row chunks of at most
:data:`CHUNK_ELEMENTS` logits so the two full-vocabulary log-softmaxes do not multiply the
batch's memory.

Rounding: each position's KL is computed in float32 (float64 for a float64 model) and clamped
at 0: two nearly equal distributions can give a sum of -1e-9 from rounding alone, and a KL
cannot be negative. The clamp changes nothing else (``tests/harness/test_kl.py`` compares with
an unclamped brute-force loop to 1e-6).

Written here rather than taken from TRL: TRL computes KL terms only inside its trainers, on its
own batches; this is the evaluation's estimator over generated responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.generate import _no_grad, response_logits, teacher_forced_batches

CHUNK_ELEMENTS = 1 << 25  # ~128 MiB of float32 per log-softmax temporary


@dataclass
class ResponseKL:
    """Per response (input order): ``kl`` (N,) float64, the exact KL (>= 0); ``sft_logps``, the
    SFT model's ``log pi_sft(y_t)`` of every response token (float64 arrays)."""

    kl: np.ndarray
    sft_logps: list[np.ndarray]

    @property
    def sft_logp_sums(self) -> np.ndarray:
        return np.array([float(lp.sum()) for lp in self.sft_logps], dtype=np.float64)


def position_kl(policy_logits, sft_logits):
    """(..., V) logits of both models -> (...) ``KL(softmax(policy) || softmax(sft))`` per
    position, clamped at 0, and the SFT log-softmax (both in float32 or the logits' wider
    dtype)."""
    import torch

    dtype = torch.promote_types(policy_logits.dtype, torch.float32)
    logp = torch.log_softmax(policy_logits.to(dtype), dim=-1)
    logq = torch.log_softmax(sft_logits.to(dtype), dim=-1)
    kl = (logp.exp() * (logp - logq)).sum(-1).clamp_min(0.0)
    return kl, logq


@_no_grad
def response_kl(
    policy,
    sft,
    prompt_ids: Sequence[Sequence[int]],
    response_ids: Sequence[Sequence[int]],
    batch_size: int,
    pad_id: int,
) -> ResponseKL:
    """The exact KL of every response and the SFT log-probs of its tokens (module docstring).
    Batched like :func:`harness.generate.token_logps` (same layout, same positions)."""
    policy.eval()
    sft.eval()
    kls = np.zeros(len(response_ids), dtype=np.float64)
    sft_lps: list[np.ndarray] = []
    for start, ids, mask, r_ids, r_mask in teacher_forced_batches(prompt_ids, response_ids,
                                                                  batch_size, pad_id):
        width = r_ids.shape[1]
        p_logits = response_logits(policy, ids, mask, width)
        q_logits = response_logits(sft, ids, mask, width).to(p_logits.device)
        r_ids, r_mask = r_ids.to(p_logits.device), r_mask.to(p_logits.device)
        rows = max(1, CHUNK_ELEMENTS // max(1, width * p_logits.shape[-1]))
        for r0 in range(0, p_logits.shape[0], rows):
            sl = slice(r0, r0 + rows)
            kl, logq = position_kl(p_logits[sl], q_logits[sl])
            kl = (kl.double() * r_mask[sl]).sum(-1).cpu().numpy()
            lq = logq.gather(-1, r_ids[sl][..., None])[..., 0].double().cpu().numpy()
            for i in range(kl.shape[0]):
                n = len(response_ids[start + r0 + i])
                kls[start + r0 + i] = kl[i]
                sft_lps.append(lq[i, :n].copy())
        del p_logits, q_logits
    return ResponseKL(kl=kls, sft_logps=sft_lps)
