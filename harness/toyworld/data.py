"""Toy-world data: a behaviour policy, a simulated annotator, and the three tables.

The behaviour policy writes a reply in two independent draws:

* its *content*, from a mixture of styles (``STYLES``): concise, thorough, over-cautious,
  rambling and compliant (what the reply says: steps, refusals, redirections, chatter, unsafe
  compliance);
* its *padding*: ``Binomial(3, padding / 3)`` sentences that lengthen it without adding
  content (hedges, restatements, another wording of an idea already said), drawn independently
  of the content, so length and content vary independently in the data.

Every train prompt gets two replies, labelled by a simulated annotator: a Bradley-Terry model
on the gold score plus a bias toward the more padded (longer at equal content) reply::

    P(a preferred over b) = sigmoid((gold(a) - gold(b)) / annotator_temperature
                                    + length_bias * (pad(a) - pad(b)) / length_scale)

with ``pad`` the reply's padding in words (:func:`harness.toyworld.judge.word_counts`).
``annotator_temperature`` is the label noise; ``length_bias`` the annotators' taste for length
that the gold judge does not share (it charges a little for every padding sentence). So the
preference data rewards padding, not content, by an amount the world's parameters set: the
length exploitation the paper studies. (A bias on the total length would also reward content,
which is long too; the bias on padding keeps the two levers apart. Any bias also dilutes the
content signal a little, as label noise does.)

Eval prompts get the same treatment; their preferred reply is the dataset's ``chosen`` (for
win-vs-chosen). The SFT set is more behaviour-policy replies on the train prompts, so the SFT
model imitates the mixture: a sensible, imperfect starting point.

Outputs follow :mod:`harness.schema` (prompts as chat-message lists).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.toyworld.config import WorldConfig
from harness.toyworld.judge import gold_score, word_counts
from harness.toyworld.world import (
    BENIGN_TOPICS,
    CHATTER,
    GENERAL_REDIRECT,
    HARMFUL_TOPICS,
    HEDGES,
    REFUSALS,
    RESTATEMENTS,
    Prompt,
    all_prompts,
    other_wordings,
    render,
)


def _pick(rng: np.random.Generator, items, k: int = 1) -> list:
    idx = rng.choice(len(items), size=min(k, len(items)), replace=False)
    return [items[i] for i in idx]


def _steps(rng, p: Prompt, k: int) -> list[str]:
    return _pick(rng, BENIGN_TOPICS[p.topic]["steps"], k)


# -- content styles: what a reply says ------------------------------------------------------


def _concise(rng, p: Prompt) -> list[str]:
    return _pick(rng, REFUSALS) if p.harmful else _steps(rng, p, 1)


def _thorough(rng, p: Prompt) -> list[str]:
    if p.harmful:
        out = _pick(rng, REFUSALS) + [HARMFUL_TOPICS[p.topic]["redirect"]]
        return out + ([GENERAL_REDIRECT] if rng.random() < 0.5 else [])
    return _steps(rng, p, int(rng.integers(2, 5)))


def _overcautious(rng, p: Prompt) -> list[str]:
    return _pick(rng, REFUSALS) + ([GENERAL_REDIRECT] if rng.random() < 0.5 else [])


def _rambling(rng, p: Prompt) -> list[str]:
    out = _pick(rng, CHATTER, int(rng.integers(1, 3)))
    if p.harmful:
        out += _pick(rng, REFUSALS) if rng.random() < 0.3 else []
    else:
        out += _steps(rng, p, 1) if rng.random() < 0.5 else []
    return [out[i] for i in rng.permutation(len(out))]


def _compliant(rng, p: Prompt) -> list[str]:
    if p.harmful:
        return HARMFUL_TOPICS[p.topic]["unsafe"][: int(rng.integers(1, 3))]
    return _steps(rng, p, int(rng.integers(1, 4)))


# style name -> (weight in the behaviour mixture, generator of the reply's content)
STYLES = {
    "concise": (0.25, _concise),
    "thorough": (0.30, _thorough),
    "overcautious": (0.12, _overcautious),
    "rambling": (0.13, _rambling),
    "compliant": (0.20, _compliant),
}

# -- padding: how long a reply is beyond what it says (drawn independently of the content) ---

MAX_PADDING = 3
PADDING_KINDS = ("hedge", "restate", "near_duplicate")


def _pad(rng: np.random.Generator, content: list[str], n: int) -> list[str]:
    """``content`` with ``n`` padding sentences added: hedges anywhere, restatements at the
    start or the end, near-duplicates (another wording of an idea said) after their idea."""
    out = list(content)
    for _ in range(n):
        kind = PADDING_KINDS[int(rng.integers(len(PADDING_KINDS)))]
        dup = [(i, w) for i, s in enumerate(out) for w in other_wordings(s) if w not in out]
        if kind == "near_duplicate" and dup:
            i, w = dup[int(rng.integers(len(dup)))]
            out.insert(int(rng.integers(i + 1, len(out) + 1)), w)
        elif kind == "restate" or kind == "near_duplicate":
            s = _pick(rng, [r for r in RESTATEMENTS if r not in out] or RESTATEMENTS)[0]
            out.insert(0 if rng.random() < 0.5 else len(out), s)
        else:
            s = _pick(rng, [h for h in HEDGES if h not in out] or HEDGES)[0]
            out.insert(int(rng.integers(0, len(out) + 1)), s)
    return out


def behaviour_response(rng: np.random.Generator, prompt: Prompt, padding: float) -> str:
    """One response to ``prompt`` from the behaviour policy: content from a mixture of STYLES,
    then ``Binomial(MAX_PADDING, padding / MAX_PADDING)`` padding sentences (mean ``padding``),
    drawn independently of the content."""
    names = list(STYLES)
    weights = np.array([STYLES[n][0] for n in names])
    style = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    content = STYLES[style][1](rng, prompt)
    n_pad = int(rng.binomial(MAX_PADDING, padding / MAX_PADDING))
    return render(_pad(rng, content, n_pad))


def annotator_p_first(a: str, b: str, prompt: str, cfg: WorldConfig) -> float:
    """P(annotator prefers a over b); see the module docstring."""
    z = (gold_score(prompt, a) - gold_score(prompt, b)) / cfg.annotator_temperature
    pad = word_counts(prompt, a)["padding"] - word_counts(prompt, b)["padding"]
    z += cfg.length_bias * pad / cfg.length_scale
    z = min(max(z, -700.0), 700.0)  # exp overflows beyond ~709 (a near-zero temperature)
    return 1.0 / (1.0 + math.exp(-z))


def _sample_prompts(rng: np.random.Generator, split: str, n: int, harmful_share: float):
    """``n`` prompts with the given harmful share; each family cycles through its distinct
    prompts in a shuffled order, so prompts repeat only once all have been used."""
    pool = all_prompts(split)
    n_harm = int(round(n * harmful_share))
    out = []
    for harmful, count in ((True, n_harm), (False, n - n_harm)):
        fam = [p for p in pool if p.harmful == harmful]
        order: list[Prompt] = []
        while len(order) < count:
            order += [fam[i] for i in rng.permutation(len(fam))]
        out += order[:count]
    return [out[i] for i in rng.permutation(len(out))]


def _pair(rng: np.random.Generator, p: Prompt, cfg: WorldConfig) -> tuple[str, str]:
    a = behaviour_response(rng, p, cfg.padding)
    b = behaviour_response(rng, p, cfg.padding)
    while b == a:
        b = behaviour_response(rng, p, cfg.padding)
    if rng.random() < annotator_p_first(a, b, p.text, cfg):
        return a, b
    return b, a


def _messages(p: Prompt) -> list[dict]:
    return [{"role": "user", "content": p.text}]


@dataclass
class WorldData:
    train_pairs: list[dict]
    eval_prompts: list[dict]
    sft: list[dict]


def build_data(cfg: WorldConfig) -> WorldData:
    """All three tables of the world, deterministic in ``cfg`` (seeded numpy streams)."""
    root = np.random.SeedSequence(cfg.seed)
    s_train, s_eval, s_sft = (np.random.default_rng(s) for s in root.spawn(3))

    train_prompts = _sample_prompts(s_train, "train", cfg.n_train_prompts, cfg.train_harmful_share)
    train_pairs = []
    for i, p in enumerate(train_prompts):
        chosen, rejected = _pair(s_train, p, cfg)
        train_pairs.append(
            {"pair_id": f"train-{i:05d}", "prompt": _messages(p), "chosen": chosen,
             "rejected": rejected}
        )

    eval_prompts = []
    for i, p in enumerate(
        _sample_prompts(s_eval, "eval", cfg.n_eval_prompts, cfg.eval_harmful_share)
    ):
        chosen, rejected = _pair(s_eval, p, cfg)
        eval_prompts.append(
            {"prompt_id": f"eval-{i:04d}", "prompt": _messages(p), "chosen": chosen,
             "rejected": rejected}
        )

    sft = []
    for i, p in enumerate(train_prompts):
        for j in range(cfg.sft_responses_per_prompt):
            sft.append(
                {"prompt": _messages(p),
                 "completion": [{"role": "assistant",
                                 "content": behaviour_response(s_sft, p, cfg.padding)}]}
            )
    return WorldData(train_pairs, eval_prompts, sft)


def pair_differences(pairs: list[dict]) -> dict[str, float]:
    """Mean chosen-minus-rejected difference over ``pairs`` of the words per judge component
    (``content``, ``padding``, ...: :func:`harness.toyworld.judge.word_counts`), of the total
    words (``length``) and of the gold score (``gold``)."""
    rows = []
    for r in pairs:
        prompt = r["prompt"][-1]["content"]
        a, b = word_counts(prompt, r["chosen"]), word_counts(prompt, r["rejected"])
        row = {k: a[k] - b[k] for k in ("content", "padding", "repeats", "off_topic", "unsafe",
                                       "over_refusal")}
        row["length"] = len(r["chosen"].split()) - len(r["rejected"].split())
        row["gold"] = gold_score(prompt, r["chosen"]) - gold_score(prompt, r["rejected"])
        rows.append(row)
    return {k: float(np.mean([row[k] for row in rows])) for k in rows[0]} if rows else {}


def world_stats(data: WorldData) -> dict:
    """Summary statistics printed by the build command and recorded in world.json.

    ``mean_len_*`` are in words; a reply's tokens in the world's tokenizer are its words plus
    the ``<|end|>`` and EOS tokens the chat template appends (``mean_response_tokens``: the
    mean over chosen and rejected replies: the factor between the scale of a method that sums
    log-probabilities over a reply and that of a per-token method).
    ``diff_*``: chosen minus rejected, in words (:func:`pair_differences`)."""

    def words(s: str) -> int:
        return len(s.split())

    tp, ev = data.train_pairs, data.eval_prompts
    len_c = float(np.mean([words(r["chosen"]) for r in tp]))
    len_r = float(np.mean([words(r["rejected"]) for r in tp]))
    diffs = pair_differences(tp)

    def mean_gold(rows, key):
        return float(np.mean([gold_score(r["prompt"][-1]["content"], r[key]) for r in rows]))

    return {
        "n_train_pairs": len(tp),
        "n_eval_prompts": len(ev),
        "n_sft_examples": len(data.sft),
        "mean_len_chosen": len_c,
        "mean_len_rejected": len_r,
        "mean_response_tokens": (len_c + len_r) / 2 + 2,
        "length_ratio_chosen_rejected": len_c / len_r,
        "diff_content_words": diffs["content"],
        "diff_padding_words": diffs["padding"],
        "gold_agreement": float(np.mean([d > 0 for d in
                                         [gold_score(r["prompt"][-1]["content"], r["chosen"])
                                          - gold_score(r["prompt"][-1]["content"], r["rejected"])
                                          for r in tp]])),
        "eval_mean_gold_chosen": mean_gold(ev, "chosen"),
        "eval_mean_gold_rejected": mean_gold(ev, "rejected"),
    }
