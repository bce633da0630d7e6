"""The toy world: a seeded synthetic safety/helpfulness world with a gold judge, noisy
length-biased annotators, a word-level tokenizer and a tiny Phi-3-architecture SFT model.

It is a simulation; its value is that every number it yields is real output of the real
pipeline. ``python -m harness.toyworld build --out DIR`` builds it.
"""

from harness.toyworld.config import SFTConfig, ToyWorldConfig, WorldConfig

__all__ = ["SFTConfig", "ToyWorldConfig", "WorldConfig"]
