"""docs/toyworld.md (issue 14, "What must hold" 5) documents every world parameter, says the
world is a simulation whose conclusions are about the world, and tells how to turn each
phenomenon up or down; the README's toy-world section points to it."""

from __future__ import annotations

from pathlib import Path

from harness.toyworld.config import SFTConfig, WorldConfig
from harness.toyworld.judge import COMPONENTS

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "toyworld.md").read_text()


def test_every_parameter_is_documented():
    for model in (WorldConfig, SFTConfig):
        for name in model.model_fields:
            assert f"`{name}`" in DOC, name


def test_every_judge_component_is_documented():
    for c in COMPONENTS:
        assert f"`{c}`" in DOC, c


def test_it_says_what_the_world_is_and_how_to_turn_each_phenomenon_up_or_down():
    assert "simulation" in DOC and "conclusions are about the world" in DOC
    for phenomenon in ("Length exploitation", "Label noise", "Distribution shift",
                       "stability edge", "KL drift"):
        assert phenomenon in DOC, phenomenon
    for lever in ("length_bias", "annotator_temperature", "eval_harmful_share", "sft.epochs"):
        assert lever in DOC, lever


def test_readme_points_to_it():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The toy world"):readme.index("## Real studies")]
    assert "docs/toyworld.md" in section and "simulation" in section
