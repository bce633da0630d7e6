"""Truncation, padding and input checks shared by the model-based judges."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.judges.inputs import check_inputs
from harness.judges.scoring import pad_batch, score_token_ids, truncate_left


def test_truncate_left_keeps_the_end_and_a_leading_special_token():
    ids = [101, 1, 2, 3, 4, 5, 6]
    assert truncate_left(ids, None) == (ids, False)
    assert truncate_left(ids, 7) == (ids, False)
    assert truncate_left(ids, 4) == ([3, 4, 5, 6], True)
    assert truncate_left(ids, 4, keep_first={101}) == ([101, 4, 5, 6], True)
    assert truncate_left(ids, 1, keep_first={101}) == ([6], True)  # no room for the marker
    assert truncate_left([7, 1, 2], 2, keep_first={101}) == ([1, 2], True)


def test_pad_batch_both_sides():
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, side="left")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert ids.dtype == mask.dtype == torch.long
    with pytest.raises(ValueError, match="padding side"):
        pad_batch([[1]], 0, side="middle")


class SumOfRealTokens(torch.nn.Module):
    """A stand-in reward model: score = sum of the real token ids, logits (batch, 1)."""

    def forward(self, input_ids, attention_mask):
        class Out:
            logits = (input_ids * attention_mask).sum(dim=1, keepdim=True).double()

        return Out()


def test_score_token_ids_puts_scores_back_in_input_order():
    seqs = [[1], [2, 3, 4], [5, 6], [7, 8, 9, 10]]
    for batch_size in (1, 2, 3, 10):
        scores = score_token_ids(SumOfRealTokens(), seqs, pad_id=99, batch_size=batch_size)
        np.testing.assert_array_equal(scores, [1, 9, 11, 34])
        assert scores.dtype == np.float64


def test_score_token_ids_rejects_empty_sequences_and_wide_heads():
    with pytest.raises(ValueError, match="empty token sequence"):
        score_token_ids(SumOfRealTokens(), [[1], []], pad_id=0, batch_size=2)

    class TwoOutputs(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            class Out:
                logits = torch.zeros(input_ids.shape[0], 2)

            return Out()

    with pytest.raises(ValueError, match=r"shape \(batch, 1\)"):
        score_token_ids(TwoOutputs(), [[1]], pad_id=0, batch_size=1)


def test_check_inputs_accepts_parquet_shaped_prompts_and_names_bad_ones():
    prompt = np.array([{"role": "user", "content": "hi"}], dtype=object)  # after a parquet round trip
    messages, responses = check_inputs([prompt], np.array([""], dtype=object))
    assert messages == [[{"role": "user", "content": "hi"}]] and responses == [""]
    with pytest.raises(ValueError, match="prompt 1 must be a non-empty list"):
        check_inputs([[{"role": "user", "content": "a"}], []], ["a", "b"])
    with pytest.raises(ValueError, match="prompt 0 message 0 has role 'bot'"):
        check_inputs([[{"role": "bot", "content": "a"}]], ["a"])
    with pytest.raises(ValueError, match="prompt 0 message 0 must be a mapping"):
        check_inputs([[{"role": "user", "content": None}]], ["a"])


def test_no_inputs_give_an_empty_float64_array():
    scores = score_token_ids(SumOfRealTokens(), [], pad_id=0, batch_size=4)
    assert scores.shape == (0,) and scores.dtype == np.float64
