"""How fluent a model's toy-world replies are: the share of words in garbled sentences.

A sentence the world never says is *garbled* (:mod:`harness.toyworld.judge`); a policy pushed
past its stability edge writes word salad ("sorry sorry to i sorry , ..."), almost all of it
garbled. The garbled-word share separates that collapse from preference-driven failures
(padding, repeats, unsafe compliance), which are made of well-formed sentences.

``fluency_table(samples, prompts)``: one row per ``trial_id`` of a samples table (columns
``trial_id, prompt_id, response``), with ``words`` (mean per reply), ``garbled_share`` (garbled
words / all words), ``repeats_share``, and the mean words of content and padding per reply.
``prompts`` maps ``prompt_id`` to the toy-world prompt text.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from harness.toyworld.judge import word_counts

FLUENT_GARBLED_SHARE = 0.05
"""The bound a fluent model stays under: at most 5% of its words in garbled sentences (the
default SFT model writes ~0.5%; a collapsed policy 50-90%)."""


def fluency_table(samples: pd.DataFrame, prompts: Mapping[str, str]) -> pd.DataFrame:
    """Per ``trial_id``: ``n_replies, words, garbled_share, repeats_share, content_words,
    padding_words`` (see the module docstring)."""
    rows = []
    for r in samples.itertuples(index=False):
        counts = word_counts(prompts[str(r.prompt_id)], str(r.response))
        rows.append({"trial_id": r.trial_id, "words": sum(counts.values()), **counts})
    df = pd.DataFrame(rows)
    g = df.groupby("trial_id", sort=False)
    total = g["words"].sum().clip(lower=1)
    return pd.DataFrame({
        "n_replies": g.size(),
        "words": g["words"].mean(),
        "garbled_share": g["garbled"].sum() / total,
        "repeats_share": g["repeats"].sum() / total,
        "content_words": g["content"].mean(),
        "padding_words": g["padding"].mean(),
    }).reset_index()


def eval_prompt_texts(eval_prompts: pd.DataFrame) -> dict[str, str]:
    """``prompt_id -> text of the last user message`` of an eval-prompts table."""
    return {str(i): p[-1]["content"] for i, p in zip(eval_prompts["prompt_id"],
                                                     eval_prompts["prompt"])}
