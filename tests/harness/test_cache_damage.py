"""Caches verify their content (issue 10, "What must hold" 4): each cached artifact, truncated
or with bytes flipped, is detected and rebuilt with a warning naming it; no run reads the
damaged bytes. (Damaged per-trial files: tests/harness/test_results_folder.py and
test_sweep_trust.py.)"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sweep_helpers import tiny_study

from harness.config import load_study
from harness.errors import DamagedFileError
from harness.io import verify_file, verify_folder
from harness.prepare import prepare


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:  # four bytes in the middle: a parquet may still load, with wrong values
        mid = len(data) // 2
        path.write_bytes(data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 4]) + data[mid + 4:])


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, tiny_world, tiny_world_config):
    """A prepared DPO study (reference cache included) in its own artifacts folder."""
    root = tmp_path_factory.mktemp("damage")
    art = root / "artifacts"
    shutil.copytree(tiny_world, art / "toyworld" / tiny_world.name)  # a sealed copy: cache hit
    path = tiny_study(root, tiny_world, tiny_world_config, artifacts_dir=str(art),
                      methods={"dpo": {"beta": [0.1]}})
    study = load_study(path)
    return study, prepare(study, progress=lambda m: None)


KINDS = {
    "reference": lambda p: p.reference_logps,
    "baseline": lambda p: p.baseline,
    "eval_prompts": lambda p: p.eval_prompts,
    "train_pairs": lambda p: p.train_pairs,
    "heldout_pairs": lambda p: p.heldout_pairs,
}


@pytest.mark.parametrize("kind, how", [("reference", "truncate"), ("reference", "flip"),
                                       ("baseline", "truncate"), ("baseline", "flip"),
                                       ("eval_prompts", "truncate"), ("train_pairs", "flip"),
                                       ("heldout_pairs", "flip")])
def test_damaged_cache_is_rebuilt_with_a_warning_naming_it(prepared, kind, how, caplog):
    study, first = prepared
    path = KINDS[kind](first)
    original = pd.read_parquet(path)
    _damage(Path(path), how)
    assert verify_file(path) is not None
    with caplog.at_level(logging.WARNING):
        again = prepare(study, progress=lambda m: None)
    assert path in caplog.text  # the warning names the damaged file
    assert KINDS[kind](again) == path and verify_file(path) is None
    rebuilt = pd.read_parquet(path)
    pd.testing.assert_frame_equal(rebuilt, original)  # the same content, rebuilt


def test_trials_refuse_a_damaged_cache_rather_than_use_it(prepared):
    from harness import trial
    from harness.reference import load_reference

    _, p = prepared
    for path, load in ((p.reference_logps, load_reference), (p.train_pairs, trial._frame.__wrapped__)):
        backup = Path(path).read_bytes()
        try:
            _damage(Path(path), "flip")
            with pytest.raises(DamagedFileError, match=str(path)):
                load(path)
        finally:
            Path(path).write_bytes(backup)
        assert verify_file(path) is None


@pytest.fixture(scope="module")
def micro_world(tmp_path_factory):
    """A very small toy world of its own (the config tests' one), built once."""
    from harness.toyworld.build import build_toyworld
    from harness.toyworld.config import ToyWorldConfig

    toy = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "toy_study.yaml"
    raw = yaml.safe_load(toy.read_text())
    cfg = ToyWorldConfig.model_validate(raw["toyworld"])
    root = tmp_path_factory.mktemp("world")
    folder, hit = build_toyworld(cfg, root)
    assert not hit and verify_folder(folder) == []
    return cfg, root, folder


@pytest.mark.parametrize("file, how", [("sft/model.safetensors", "truncate"),
                                       ("train_pairs.jsonl", "flip")])
def test_damaged_toy_world_is_rebuilt(micro_world, file, how, caplog):
    from transformers import AutoModelForCausalLM

    from harness.toyworld.build import build_toyworld

    cfg, root, folder = micro_world
    _damage(folder / file, how)
    with caplog.at_level(logging.WARNING, logger="harness.toyworld.build"):
        again, hit = build_toyworld(cfg, root)
    assert not hit and again == folder
    assert str(folder / file) in caplog.text
    assert verify_folder(folder) == []
    AutoModelForCausalLM.from_pretrained(folder / "sft")  # loads (was a SafetensorError)
    assert build_toyworld(cfg, root) == (folder, True)
