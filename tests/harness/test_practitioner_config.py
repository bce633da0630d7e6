"""The new YAML keys (issue 12): save, tracking, training.peft, generation.stop_*: defaults,
accepted shapes, and one error line naming the key for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import ConfigError, parse_yaml, validate_study
from harness.grid import expand

REPO = Path(__file__).resolve().parents[2]
RAW = parse_yaml((REPO / "sweeps" / "byo.yaml").read_text())
BARE = {k: v for k, v in RAW.items() if k not in ("save", "tracking")}


def test_defaults_keep_nothing_and_track_with_tensorboard():
    s = validate_study({**BARE, "training": {}, "generation": {}})
    assert s.save.policies == "none"
    assert s.tracking.report_to == ["tensorboard"]
    assert s.training.peft is None
    assert s.generation.stop_token_ids is None and s.generation.stop_strings == []


def test_save_and_tracking_do_not_change_trial_ids():
    a = expand(validate_study(BARE))
    b = expand(validate_study({**BARE, "save": {"policies": {"best": 3}},
                               "tracking": {"report_to": ["wandb", "mlflow"]}}))
    assert [s.trial_id for s in a] == [s.trial_id for s in b]
    # LoRA changes what a trial produces: every id changes
    c = expand(validate_study({**BARE, "training": {**BARE["training"], "peft": None}}))
    assert not {s.trial_id for s in a} & {s.trial_id for s in c}


@pytest.mark.parametrize("change, message", [
    ({"tracking": {"report_to": ["tensorboard", "wandbb"]}},
     "tracking.report_to[1]: unknown tracker; available: "),
    ({"save": {"policies": {"best": 0}}}, "save.policies: must be none, all or {best: K}"),
    ({"save": {"policies": "some"}}, "save.policies: must be none, all or {best: K}"),
    ({"training": {**BARE["training"], "peft": {"r": 0}}}, "training.peft.r: "),
    ({"training": {**BARE["training"], "peft": {"target_modules": []}}},
     "training.peft.target_modules: "),
    ({"generation": {**BARE["generation"], "stop_token_ids": ["x"]}},
     "generation.stop_token_ids[0]: "),
])
def test_one_error_line_naming_the_key(change, message):
    with pytest.raises(ConfigError) as e:
        validate_study({**BARE, **change})
    assert len(e.value.errors) == 1
    assert message in str(e.value)
