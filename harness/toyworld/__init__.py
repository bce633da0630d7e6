"""The toy world: a seeded synthetic safety/helpfulness world with a gold judge (and its score
breakdown), a behaviour policy whose padding is independent of its content, noisy annotators
with a taste for padding, a word-level tokenizer and a tiny Phi-3-architecture SFT model.

It is a simulation (docs/toyworld.md); its value is that every number it yields is real output
of the real pipeline, and that each phenomenon a study measures can be turned up or down by a
documented parameter. It is a plug-in of the core (:mod:`harness.toyworld.plugin`).
``python -m harness.toyworld build --out DIR`` builds it.
"""

from harness.toyworld.config import SFTConfig, ToyWorldConfig, WorldConfig

__all__ = ["SFTConfig", "ToyWorldConfig", "WorldConfig"]
