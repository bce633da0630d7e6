"""Gold judges, by name: ``toy``, ``reward_model``, ``oasst`` (see docs/judges.md).

    judge = build_judge({"name": "oasst", "batch_size": 16})
    scores = judge.score(prompts, responses)   # float64, shape (N,)

Importing this package registers the built-in judges; it imports neither torch nor
transformers (the model-based judges import them when built).
"""

from harness.judges.registry import (
    JUDGES,
    Judge,
    JudgeSpec,
    build_judge,
    get_judge_spec,
    judge_refs,
    parse_judge,
    register,
)
from harness.judges import oasst, reward_model, toy  # noqa: E402,F401  (registers the judges)

__all__ = [
    "JUDGES",
    "Judge",
    "JudgeSpec",
    "build_judge",
    "get_judge_spec",
    "judge_refs",
    "parse_judge",
    "register",
]
