"""``toy``: the toy world's deterministic rubric judge as a registered gold judge.

Score = :func:`harness.toyworld.judge.gold_score` (prompt, response), the prompt being the text
of the last user message (toy-world prompts are single-turn). See that module for the rubric.
No model, no Hub id, no options.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.judges.inputs import check_inputs, last_user_content
from harness.judges.registry import JudgeSpec, register


class ToyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToyJudge:
    name = "toy"

    def __init__(self) -> None:
        # Imported here, not at module import: the toy world is one judge among several.
        from harness.toyworld.judge import gold_score

        self._gold_score = gold_score

    def score(self, prompts: Sequence[list[dict]], responses: Sequence[str]) -> np.ndarray:
        messages, responses = check_inputs(prompts, responses)
        return np.array(
            [self._gold_score(last_user_content(m), r) for m, r in zip(messages, responses)],
            dtype=np.float64,
        )


register(
    JudgeSpec(
        name="toy",
        options=ToyOptions,
        build=lambda options: ToyJudge(),
        doc="The toy world's rubric judge (harness.toyworld.judge.gold_score).",
    )
)
