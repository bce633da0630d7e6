"""Toy-world data (issue 2, criteria 1, 2, 3, 5)."""

import numpy as np
import pytest

from harness.io import read_jsonl
from harness.schema import EVAL_COLUMNS, TRAIN_COLUMNS
from harness.toyworld.build import write_world_data
from harness.toyworld.config import ToyWorldConfig, WorldConfig
from harness.toyworld.data import build_data, pair_differences, world_stats
from harness.toyworld.judge import word_counts
from harness.toyworld.world import TEMPLATES, all_prompts, vocabulary

FILES = ("train_pairs.jsonl", "eval_prompts.jsonl", "sft.jsonl")


def _write(tmp_path, name, **world):
    folder = tmp_path / name
    write_world_data(ToyWorldConfig(world=WorldConfig(**world)), folder)
    return folder


def test_same_seed_gives_byte_identical_data(tmp_path):
    a = _write(tmp_path, "a", seed=3, n_train_prompts=200, n_eval_prompts=40)
    b = _write(tmp_path, "b", seed=3, n_train_prompts=200, n_eval_prompts=40)
    for f in FILES:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_different_seed_gives_different_data(tmp_path):
    a = _write(tmp_path, "a", seed=3, n_train_prompts=200, n_eval_prompts=40)
    c = _write(tmp_path, "c", seed=4, n_train_prompts=200, n_eval_prompts=40)
    for f in FILES:
        assert (a / f).read_bytes() != (c / f).read_bytes(), f


def test_schema_matches_the_adapters(tmp_path):
    folder = _write(tmp_path, "a", n_train_prompts=50, n_eval_prompts=10)
    train = read_jsonl(folder / "train_pairs.jsonl")
    evals = read_jsonl(folder / "eval_prompts.jsonl")
    assert set(TRAIN_COLUMNS) <= set(train[0]) and set(EVAL_COLUMNS) <= set(evals[0])
    assert len({r["pair_id"] for r in train}) == 50 and len({r["prompt_id"] for r in evals}) == 10
    assert all(r["prompt"][-1]["role"] == "user" for r in train + evals)
    assert all(r["chosen"] != r["rejected"] for r in train)


@pytest.mark.parametrize("seed", [0, 1])
def test_length_bias_rewards_padding_not_content(seed):
    """Issue 14, "What must hold" 1: in the default world's preference data the
    chosen-minus-rejected padding difference grows with length_bias (about 0 without it, clearly
    positive at the default) while the content difference stays put."""
    default = WorldConfig(seed=seed).length_bias
    diffs = {lb: pair_differences(build_data(WorldConfig(seed=seed, length_bias=lb)).train_pairs)
             for lb in (0.0, default, 2 * default)}
    pad = [diffs[lb]["padding"] for lb in sorted(diffs)]
    content = [diffs[lb]["content"] for lb in sorted(diffs)]
    # words; one padding sentence is 5-12 words
    assert abs(pad[0]) < 1.0, pad
    assert pad[1] > 2.0 and pad[2] > pad[1] + 1.0, pad
    # the content difference: large, and within 10% of its unbiased value at the default bias
    # (a bias dilutes the content signal a little, as label noise does: docs/toyworld.md)
    assert content[0] > 5.0
    assert abs(content[1] - content[0]) < 0.1 * content[0], content


@pytest.mark.parametrize("seed", [0, 1])
def test_padding_is_independent_of_content_in_the_behaviour_policy(seed):
    """Padding is drawn independently of the content, so length and content vary independently
    in the unlabelled replies (correlation of padding and content words across replies ~0)."""
    data = build_data(WorldConfig(seed=seed, n_train_prompts=1000))
    counts = [word_counts(r["prompt"][-1]["content"], r[k])
              for r in data.train_pairs for k in ("chosen", "rejected")]
    pad = np.array([c["padding"] for c in counts], dtype=float)
    content = np.array([c["content"] for c in counts], dtype=float)
    assert pad.mean() > 4.0  # about one padding sentence per reply at the default
    assert abs(np.corrcoef(pad, content)[0, 1]) < 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_label_noise_gold_agreement_between_60_and_90_percent(seed):
    stats = world_stats(build_data(WorldConfig(seed=seed)))
    assert 0.6 <= stats["gold_agreement"] <= 0.9
    # with a near-deterministic, unbiased annotator the gold judge almost always agrees
    sharp = world_stats(build_data(WorldConfig(seed=seed, length_bias=0.0,
                                               annotator_temperature=0.01)))
    assert sharp["gold_agreement"] > 0.9


def test_eval_prompts_share_no_template_or_text_with_train():
    for family in ("benign", "harmful"):
        assert not set(TEMPLATES["train"][family]) & set(TEMPLATES["eval"][family])
    train, evals = all_prompts("train"), all_prompts("eval")
    assert not {p.template for p in train} & {p.template for p in evals}
    assert not {p.text for p in train} & {p.text for p in evals}


def test_train_and_eval_mixes_differ():
    data = build_data(WorldConfig(n_train_prompts=500, n_eval_prompts=100))
    harmful = {p.text for p in all_prompts("train") + all_prompts("eval") if p.harmful}
    share = lambda rows: np.mean([r["prompt"][-1]["content"] in harmful for r in rows])  # noqa: E731
    assert share(data.train_pairs) == pytest.approx(0.6, abs=0.01)
    assert share(data.eval_prompts) == pytest.approx(0.4, abs=0.01)


def test_every_text_uses_only_world_vocabulary():
    vocab = set(vocabulary())
    data = build_data(WorldConfig(n_train_prompts=100, n_eval_prompts=20))
    texts = [r[k] for r in data.train_pairs for k in ("chosen", "rejected")]
    texts += [m["content"] for r in data.eval_prompts for m in r["prompt"]]
    assert all(w in vocab for t in texts for w in t.split())
