"""harness.prepare: the zero-length guard and the held-out split (the rest of prepare runs in
every sweep test)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from harness.io import read_jsonl
from harness.models import load_tokenizer
from harness.prepare import PrepareError, _drop_unusable_pairs, _split_heldout


@pytest.fixture(scope="module")
def tok(tiny_world):
    return load_tokenizer(str(tiny_world / "sft"))


@pytest.fixture(scope="module")
def pairs(tiny_world) -> pd.DataFrame:
    return pd.DataFrame(read_jsonl(tiny_world / "train_pairs.jsonl")).iloc[:32]


def _prompt_len(tok, prompt) -> int:
    return len(tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                       return_dict=True)["input_ids"])


def test_prepare_drops_pairs_with_no_response_tokens(tok, caplog):
    short = [{"role": "user", "content": "how do i bake bread ?"}]
    assert _prompt_len(tok, short) < 24
    long = [{"role": "user", "content": " ".join(["bread"] * 40)}]
    df = pd.DataFrame({
        "pair_id": ["ok", "empty-chosen", "blank-rejected", "long-prompt"],
        "prompt": [short, short, short, long],
        "chosen": ["mix flour and water .", "", "mix flour .", "mix flour ."],
        "rejected": ["no .", "no .", "   ", "no ."],
    })
    with caplog.at_level(logging.WARNING, logger="harness.prepare"):
        kept = _drop_unusable_pairs(df, tok, max_length=24)
    assert kept["pair_id"].tolist() == ["ok"]
    assert kept.index.tolist() == [0]
    assert "dropped 2 pair(s) with an empty response and 1 whose prompt fills max_length=24" in caplog.text


def test_prompt_length_boundary_follows_trl(tok):
    """TRL drops a pair only when its prompt alone reaches max_length; one token short leaves
    one response token, which trains."""
    prompt = [{"role": "user", "content": "how do i bake bread ?"}]
    short = [{"role": "user", "content": "hi"}]
    n = _prompt_len(tok, prompt)
    assert _prompt_len(tok, short) < n
    df = pd.DataFrame({"pair_id": ["p", "q"], "prompt": [prompt, short], "chosen": ["a .", "c ."],
                       "rejected": ["b .", "d ."]})
    assert list(_drop_unusable_pairs(df, tok, max_length=n + 1)["pair_id"]) == ["p", "q"]
    assert list(_drop_unusable_pairs(df, tok, max_length=n)["pair_id"]) == ["q"]
    # keep_end cuts the prompt from the front instead: nothing to drop
    assert len(_drop_unusable_pairs(df, tok, max_length=n, truncation_mode="keep_end")) == 2


def test_max_length_that_leaves_no_pair_is_an_error_naming_the_key(tok):
    """training.max_length: 2 used to end in a bare StopIteration inside the trainer."""
    prompt = [{"role": "user", "content": "hi"}]
    n = _prompt_len(tok, prompt)
    df = pd.DataFrame({"pair_id": ["q"], "prompt": [prompt], "chosen": ["c ."], "rejected": ["d ."]})
    with pytest.raises(PrepareError, match=rf"training.max_length: 2 .* at least {n + 1}"):
        _drop_unusable_pairs(df, tok, max_length=2)


def test_prepare_keeps_every_usable_pair_silently(tok, pairs, caplog):
    with caplog.at_level(logging.WARNING, logger="harness.prepare"):
        kept = _drop_unusable_pairs(pairs, tok, max_length=128)
    assert kept.equals(pairs.reset_index(drop=True))
    assert "dropped" not in caplog.text


def test_heldout_split_is_seeded_disjoint_and_complete(pairs):
    train, held = _split_heldout(pairs, 8, seed=0)
    again_train, again_held = _split_heldout(pairs, 8, seed=0)
    assert held.equals(again_held) and train.equals(again_train)
    assert len(held) == 6  # capped at a fifth of the pairs: 32 // 5
    assert set(train["pair_id"]).isdisjoint(held["pair_id"])
    assert set(train["pair_id"]) | set(held["pair_id"]) == set(pairs["pair_id"])
    assert not _split_heldout(pairs, 8, seed=1)[1].equals(held)
