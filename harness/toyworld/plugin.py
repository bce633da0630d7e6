"""The toy world as a plug-in of the harness: what it registers.

* world ``toyworld`` (:mod:`harness.worlds`): the study YAML's ``toyworld:`` section, validated
  by :class:`~harness.toyworld.config.ToyWorldConfig`; building it writes the world's tables and
  trains its SFT model (:func:`harness.toyworld.build.build_toyworld`, cached by config hash);
* data adapter ``toyworld`` (:mod:`harness.toyworld.adapter`): that world's train pairs or eval
  prompts;
* judge ``toy`` (:mod:`harness.toyworld.toy_judge`): its gold rubric, with a score breakdown.

The package declares this module in the ``po_harness.plugins`` entry-point group (setup.cfg),
so the registries load it (:mod:`harness.entry_points`); nothing in the core imports the toy
world. Importing this module is cheap: no torch, no transformers.
"""

from __future__ import annotations

from pathlib import Path

from harness.data.registry import Adapter
from harness.data.registry import register as register_adapter
from harness.judges.registry import JudgeSpec
from harness.judges.registry import register as register_judge
from harness.toyworld import adapter, toy_judge
from harness.toyworld.config import ToyWorldConfig
from harness.worlds import BuiltWorld, World
from harness.worlds import register as register_world

NAME = "toyworld"


def build(options: ToyWorldConfig, cache_root: Path) -> BuiltWorld:
    from harness.toyworld.build import build_toyworld

    folder, hit = build_toyworld(options, cache_root)
    return BuiltWorld(folder=folder, policy=folder / "sft", cache_hit=hit)


register_world(World(name=NAME, options=ToyWorldConfig, build=build,
                     doc="The toy world: synthetic data and a tiny SFT model (docs/toyworld.md)."))
register_adapter(Adapter(name=NAME, options=adapter.ToyWorldOptions, load=adapter.load,
                         doc=adapter.__doc__ or ""))
register_judge(JudgeSpec(name="toy", options=toy_judge.ToyOptions,
                         build=lambda options: toy_judge.ToyJudge(),
                         doc="The toy world's rubric judge (harness.toyworld.judge.gold_score)."))
