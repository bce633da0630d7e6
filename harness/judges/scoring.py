"""Batched scoring with a sequence-score model: truncation, padding, batches, inference mode.

A model-based judge is an ``encode`` function (chat prompt + reply -> token ids, in the format
its reward model was trained on) plus a model whose ``logits`` have shape (batch, 1); the score
of a reply is ``logits[:, 0]`` at the model's own pooled position.

Truncation policy (in tokens of the judge's tokenizer): an input longer than ``max_length``
loses tokens from the LEFT, i.e. from the start of the conversation, so the reply and the final
tokens, where a last-token reward model reads its score, are always kept; a leading special
token (BOS/CLS) is kept in place. A reply longer than ``max_length`` by itself loses its
beginning too. Why left: the score is a judgement of the reply, and the oldest context is the
least relevant part of it. Truncations are counted in ``last_stats`` and logged.

Padding policy: sequences are padded on the RIGHT by this module (the tokenizer's
``padding_side`` is not consulted), with an attention mask. Under right padding every real token
keeps the position it has unpadded, and both last-non-pad pooling (decoder reward models) and
first-token pooling (encoder reward models) see the same tokens, so a score does not depend on
the batch it was computed in. Batches are formed by length (longest first) to waste little
compute on padding, and scores are put back in input order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from harness.judges.inputs import check_inputs

log = logging.getLogger(__name__)

Encoder = Callable[[list[dict], str], list[int]]


def truncate_left(
    ids: list[int], max_length: int | None, keep_first: Collection[int] = ()
) -> tuple[list[int], bool]:
    """``ids`` cut from the left to ``max_length`` tokens; ``ids[0]`` stays when it is in
    ``keep_first``. Returns (ids, whether anything was cut)."""
    if max_length is None or len(ids) <= max_length:
        return list(ids), False
    if ids and ids[0] in keep_first and max_length > 1:
        return [ids[0]] + list(ids[len(ids) - (max_length - 1) :]), True
    return list(ids[len(ids) - max_length :]), True


def pad_batch(
    seqs: Sequence[Sequence[int]], pad_id: int, side: str = "right"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), both int64 of shape (batch, longest)."""
    if side not in ("left", "right"):
        raise ValueError(f"padding side must be 'left' or 'right', got {side!r}")
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        span = slice(0, len(s)) if side == "right" else slice(width - len(s), width)
        ids[row, span] = torch.tensor(list(s), dtype=torch.long)
        mask[row, span] = 1
    return ids, mask


def score_token_ids(
    model: torch.nn.Module,
    seqs: Sequence[Sequence[int]],
    *,
    pad_id: int,
    batch_size: int,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """``model(input_ids, attention_mask).logits[:, 0]`` for each sequence, batched, right-padded,
    under ``torch.inference_mode``. Returns float64 of shape (len(seqs),)."""
    out = np.empty(len(seqs), dtype=np.float64)
    if any(len(s) == 0 for s in seqs):
        raise ValueError("cannot score an empty token sequence")
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, mask = pad_batch([seqs[i] for i in rows], pad_id, "right")
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            if logits.ndim != 2 or logits.shape[1] != 1:
                raise ValueError(
                    "a reward model must return logits of shape (batch, 1), "
                    f"got {tuple(logits.shape)}"
                )
            out[rows] = logits[:, 0].float().cpu().numpy()
    return out


@dataclass
class ModelJudge:
    """A judge made of an ``encode`` function and a sequence-score model (see module doc)."""

    name: str
    model: torch.nn.Module
    encode: Encoder
    pad_id: int
    batch_size: int
    device: torch.device
    max_length: int | None = None
    keep_first: frozenset[int] = frozenset()
    last_stats: dict = field(default_factory=dict)

    def encode_all(
        self, prompts: Sequence[list[dict]], responses: Sequence[str]
    ) -> tuple[list[list[int]], int]:
        """Token ids of every (prompt, reply), truncated; and how many were truncated."""
        messages, responses = check_inputs(prompts, responses)
        seqs, n_cut = [], 0
        for m, r in zip(messages, responses):
            ids, cut = truncate_left(self.encode(m, r), self.max_length, self.keep_first)
            seqs.append(ids)
            n_cut += cut
        return seqs, n_cut

    def score(self, prompts: Sequence[list[dict]], responses: Sequence[str]) -> np.ndarray:
        seqs, n_cut = self.encode_all(prompts, responses)
        scores = score_token_ids(
            self.model, seqs, pad_id=self.pad_id, batch_size=self.batch_size, device=self.device
        )
        self.last_stats = {
            "n": len(seqs),
            "n_empty": sum(1 for r in responses if not r),
            "n_truncated": n_cut,
        }
        if n_cut:
            log.warning(
                "%s judge: %d of %d inputs were longer than max_length=%s tokens and lost their "
                "start (left truncation)", self.name, n_cut, len(seqs), self.max_length,
            )
        return scores
