"""Tiny offline fixtures for the judge tests: a byte-level BPE tokenizer with the
Open-Assistant special tokens, and tiny random reward models saved in upstream layouts.

The builders live in ``tests/fixtures/tiny_models.py`` (shared with the end-to-end tests) and
are re-exported here, so ``from .conftest import build_tokenizer, INIT_STD`` keeps working.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FIXTURES = str(Path(__file__).resolve().parents[2] / "fixtures")
if FIXTURES not in sys.path:
    sys.path.insert(0, FIXTURES)

from tiny_models import (  # noqa: E402,F401  (re-exported for the judge tests)
    CORPUS,
    INIT_STD,
    NEOX_CONFIG,
    SPECIALS,
    build_tokenizer,
    copy_tokenizer,
    upstream_reward_state,
    write_oasst_checkpoint,
)


@pytest.fixture(scope="session")
def neox_tokenizer_dir(tmp_path_factory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("neox_tokenizer"))


@pytest.fixture(scope="session")
def vocab_size(neox_tokenizer_dir) -> int:
    from transformers import AutoTokenizer

    return len(AutoTokenizer.from_pretrained(neox_tokenizer_dir))


@pytest.fixture
def make_oasst_checkpoint(tmp_path, neox_tokenizer_dir, vocab_size):
    """Write a tiny Open-Assistant-style reward model checkpoint; returns (folder, body, head)."""

    def make(fmt: str = "bin", *, drop: tuple[str, ...] = (), extra: dict | None = None,
             model_type: str = "gpt_neox_reward_model", pooling: str = "last", name: str = "rm"):
        return write_oasst_checkpoint(
            tmp_path / name, neox_tokenizer_dir, vocab_size, fmt, drop=drop, extra=extra,
            model_type=model_type, pooling=pooling,
        )

    return make
