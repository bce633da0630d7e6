"""Toy-world data: a behaviour policy, a simulated annotator, and the three tables.

The behaviour policy is a mixture of response *styles* (``STYLES``): concise, thorough, verbose,
over-cautious, rambling and compliant. Every train prompt gets two responses from it, labelled
by a simulated annotator (a Bradley-Terry model on the gold score plus a length bias)::

    P(a preferred over b) = sigmoid((gold(a) - gold(b)) / annotator_temperature
                                    + length_bias * (len(a) - len(b)) / length_scale)

with lengths in words. So the preference data rewards length that the gold judge does not:
the length exploitation the paper studies. Eval prompts get the same treatment; their preferred
response is the dataset's ``chosen`` (for win-vs-chosen). The SFT set is more behaviour-policy
responses on the train prompts, so the SFT model imitates the mixture: a sensible, imperfect
starting point.

Outputs follow :mod:`harness.schema` (prompts as chat-message lists).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.toyworld.config import WorldConfig
from harness.toyworld.judge import gold_score
from harness.toyworld.world import (
    BENIGN_TOPICS,
    CHATTER,
    FILLER,
    GENERAL_REDIRECT,
    HARMFUL_TOPICS,
    REFUSALS,
    Prompt,
    all_prompts,
    render,
)


def _pick(rng: np.random.Generator, items, k: int = 1) -> list:
    idx = rng.choice(len(items), size=min(k, len(items)), replace=False)
    return [items[i] for i in idx]


def _insert(rng: np.random.Generator, sentences: list[str], extra: list[str]) -> list[str]:
    out = list(sentences)
    for s in extra:
        out.insert(int(rng.integers(0, len(out) + 1)), s)
    return out


def _concise(rng, p: Prompt) -> list[str]:
    if p.harmful:
        return _pick(rng, REFUSALS)
    return _pick(rng, BENIGN_TOPICS[p.topic]["steps"], int(rng.integers(1, 3)))


def _thorough(rng, p: Prompt) -> list[str]:
    if p.harmful:
        out = _pick(rng, REFUSALS) + [HARMFUL_TOPICS[p.topic]["redirect"]]
        return out + ([GENERAL_REDIRECT] if rng.random() < 0.5 else [])
    return _pick(rng, BENIGN_TOPICS[p.topic]["steps"], int(rng.integers(3, 5)))


def _verbose(rng, p: Prompt) -> list[str]:
    if p.harmful:
        core = _pick(rng, REFUSALS)
    else:
        core = _pick(rng, BENIGN_TOPICS[p.topic]["steps"], 2)
    extra = _pick(rng, FILLER, int(rng.integers(1, 3)))
    if rng.random() < 0.5:
        extra += _pick(rng, CHATTER)
    if rng.random() < 0.5:
        extra.append(core[0])  # repetition
    return _insert(rng, core, extra)


def _overcautious(rng, p: Prompt) -> list[str]:
    out = _pick(rng, REFUSALS)
    return out + ([GENERAL_REDIRECT] if rng.random() < 0.5 else [])


def _rambling(rng, p: Prompt) -> list[str]:
    out = _pick(rng, CHATTER, int(rng.integers(1, 3))) + _pick(rng, FILLER)
    if p.harmful:
        if rng.random() < 0.3:
            out += _pick(rng, REFUSALS)
    elif rng.random() < 0.5:
        out += _pick(rng, BENIGN_TOPICS[p.topic]["steps"])
    return _insert(rng, [], out)


def _compliant(rng, p: Prompt) -> list[str]:
    if p.harmful:
        out = HARMFUL_TOPICS[p.topic]["unsafe"][: int(rng.integers(1, 3))]
        return out + (_pick(rng, FILLER) if rng.random() < 0.3 else [])
    out = _pick(rng, BENIGN_TOPICS[p.topic]["steps"], int(rng.integers(1, 4)))
    return out + (_pick(rng, FILLER) if rng.random() < 0.3 else [])


# style name -> (weight in the behaviour mixture, generator)
STYLES = {
    "concise": (0.20, _concise),
    "thorough": (0.20, _thorough),
    "verbose": (0.25, _verbose),
    "overcautious": (0.10, _overcautious),
    "rambling": (0.10, _rambling),
    "compliant": (0.15, _compliant),
}


def behaviour_response(rng: np.random.Generator, prompt: Prompt) -> str:
    """One response to ``prompt`` from the behaviour policy (a mixture of STYLES)."""
    names = list(STYLES)
    weights = np.array([STYLES[n][0] for n in names])
    style = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    return render(STYLES[style][1](rng, prompt))


def annotator_p_first(a: str, b: str, prompt: str, cfg: WorldConfig) -> float:
    """P(annotator prefers a over b); see the module docstring."""
    z = (gold_score(prompt, a) - gold_score(prompt, b)) / cfg.annotator_temperature
    z += cfg.length_bias * (len(a.split()) - len(b.split())) / cfg.length_scale
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
    a = behaviour_response(rng, p)
    b = behaviour_response(rng, p)
    while b == a:
        b = behaviour_response(rng, p)
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
                 "completion": [{"role": "assistant", "content": behaviour_response(s_sft, p)}]}
            )
    return WorldData(train_pairs, eval_prompts, sft)


def world_stats(data: WorldData) -> dict:
    """Summary statistics printed by the build command and checked by the tests."""

    def words(s: str) -> int:
        return len(s.split())

    tp = data.train_pairs
    gold_agrees = [
        gold_score(r["prompt"][-1]["content"], r["chosen"])
        > gold_score(r["prompt"][-1]["content"], r["rejected"])
        for r in tp
    ]
    ev = data.eval_prompts
    return {
        "n_train_pairs": len(tp),
        "n_eval_prompts": len(ev),
        "n_sft_examples": len(data.sft),
        "mean_len_chosen": float(np.mean([words(r["chosen"]) for r in tp])),
        "mean_len_rejected": float(np.mean([words(r["rejected"]) for r in tp])),
        "length_ratio_chosen_rejected": float(
            np.mean([words(r["chosen"]) for r in tp]) / np.mean([words(r["rejected"]) for r in tp])
        ),
        "gold_agreement": float(np.mean(gold_agrees)),
        "eval_mean_gold_chosen": float(
            np.mean([gold_score(r["prompt"][-1]["content"], r["chosen"]) for r in ev])
        ),
        "eval_mean_gold_rejected": float(
            np.mean([gold_score(r["prompt"][-1]["content"], r["rejected"]) for r in ev])
        ),
    }
