"""``toy``: the toy world's deterministic rubric judge as a gold judge.

Score = :func:`harness.toyworld.judge.gold_score` (prompt, response), the prompt being the text
of the last user message (toy-world prompts are single-turn). See that module for the rubric.
No model, no Hub id, no options. Registered by :mod:`harness.toyworld.plugin`.

It offers the optional judge method ``breakdown`` (:class:`harness.judges.registry.Judge`): the
score split into the rubric's components (:data:`harness.toyworld.judge.COMPONENTS`: content,
padding, repeats, garbled, unsafe, over_refusal, off_topic, rambling, empty). For every reply the
components sum to its score; the evaluation stage records them as ``judge_<component>`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.judges.inputs import check_inputs, last_user_content
from harness.toyworld.judge import COMPONENTS, gold_breakdown, gold_score


class ToyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToyJudge:
    name = "toy"

    def score(self, prompts: Sequence[list[dict]], responses: Sequence[str]) -> np.ndarray:
        messages, responses = check_inputs(prompts, responses)
        return np.array(
            [gold_score(last_user_content(m), r) for m, r in zip(messages, responses)],
            dtype=np.float64,
        )

    def breakdown(self, prompts: Sequence[list[dict]], responses: Sequence[str]
                  ) -> dict[str, np.ndarray]:
        """``{component: float64 array of shape (N,)}`` for every component in
        :data:`~harness.toyworld.judge.COMPONENTS`; row i sums to ``score(...)[i]``."""
        messages, responses = check_inputs(prompts, responses)
        rows = [gold_breakdown(last_user_content(m), r) for m, r in zip(messages, responses)]
        return {c: np.array([row[c] for row in rows], dtype=np.float64) for c in COMPONENTS}
