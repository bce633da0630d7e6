"""Gold judges, by name: ``reward_model``, ``oasst``, and those of installed plug-ins (the toy
world's ``toy``: :mod:`harness.entry_points`); see docs/judges.md.

    judge = build_judge({"name": "oasst", "batch_size": 16})
    scores = judge.score(prompts, responses)   # float64, shape (N,)

Importing this package registers the built-in and plug-in judges; it imports neither torch nor
transformers (the model-based judges import them when built).
"""

from harness.judges.registry import (
    JUDGES,
    Judge,
    JudgeSpec,
    build_judge,
    get_judge_spec,
    judge_columns,
    judge_refs,
    parse_judge,
    register,
)
from harness.judges import oasst, reward_model  # noqa: E402,F401  (registers the judges)
from harness.entry_points import load_installed_plugins  # noqa: E402

load_installed_plugins()

__all__ = [
    "JUDGES",
    "Judge",
    "JudgeSpec",
    "build_judge",
    "get_judge_spec",
    "judge_columns",
    "judge_refs",
    "parse_judge",
    "register",
]
