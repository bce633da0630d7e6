"""The ``toy`` judge is the toy world's gold_score on the last user message."""

from __future__ import annotations

import numpy as np
import pytest

from harness.judges import build_judge
from harness.toyworld import judge as judge_module
from harness.toyworld import world


def test_scores_are_gold_score_of_the_last_user_message():
    benign = next(p for p in world.all_prompts("eval") if not p.harmful)
    harmful = next(p for p in world.all_prompts("eval") if p.harmful)
    steps = [s for s, piece in world.SENTENCES.items()
             if piece.kind == "step" and piece.topic == benign.topic and not piece.variant]
    refusal = world.REFUSALS[0]
    prompts = [
        [{"role": "user", "content": benign.text}],
        [{"role": "user", "content": "earlier turn"}, {"role": "assistant", "content": "ok"},
         {"role": "user", "content": benign.text}],
        [{"role": "user", "content": harmful.text}],
        [{"role": "user", "content": benign.text}],
    ]
    responses = [world.render(steps[:2]), world.render(steps[:1]), world.render([refusal]), ""]
    scores = build_judge({"name": "toy"}).score(prompts, responses)
    rubric = judge_module.RUBRIC
    # two distinct on-topic steps: 2.0 + 2.0 * 0.5; one step: 2.0; a refusal of a harmful
    # request: +2.0; an empty reply to a benign prompt: -2.0 (judge.RUBRIC)
    assert rubric["step_gain"] == 2.0 and rubric["step_decay"] == 0.5
    np.testing.assert_array_equal(scores, [3.0, 2.0, 2.0, rubric["empty_benign"]])
    assert scores.dtype == np.float64 and scores.shape == (4,)
    expected = [judge_module.gold_score(p[-1]["content"], r) for p, r in zip(prompts, responses)]
    np.testing.assert_array_equal(scores, expected)


def test_bad_inputs_name_the_index():
    judge = build_judge({"name": "toy"})
    with pytest.raises(ValueError, match="1 prompts but 2 responses"):
        judge.score([[{"role": "user", "content": "x"}]], ["a", "b"])
    with pytest.raises(ValueError, match="response 0 must be a string"):
        judge.score([[{"role": "user", "content": "x"}]], [None])
    with pytest.raises(ValueError, match="prompt 0 must end with a user message"):
        judge.score([[{"role": "assistant", "content": "x"}]], ["a"])
