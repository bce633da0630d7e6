"""The real-model cost model of ``--dry-run`` (harness/cost.py, docs/cost.md): hand-computed
values on a small study, and the properties that make it a GPU-hour count (training GPU-hours do
not depend on how many GPUs share them; held GPUs idle during evaluation do count)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness import cost
from harness.config import parse_yaml, validate_study

REPO = Path(__file__).resolve().parents[2]
RAW = parse_yaml((REPO / "sweeps" / "saferlhf.yaml").read_text())  # reads 3e-7 as a number


def study(**sections):
    raw = copy.deepcopy(RAW)
    for key, value in sections.items():  # sections are merged key by key; methods replaced
        merge = isinstance(value, dict) and key != "methods"
        raw[key] = {**raw[key], **value} if merge else value
    return validate_study(raw)


SMALL = dict(
    data={"train": {**RAW["data"]["train"], "max_rows": 1000},
          "eval": {**RAW["data"]["eval"], "max_rows": 100}, "heldout_pairs": 10},
    training={"max_length": 512, "gradient_checkpointing": False},
    generation={"max_new_tokens": 256, "backend": "hf"},
    grid={"learning_rate": [1e-6], "epochs": [2], "seed": [0]},
    methods={"dpo": {"beta": [0.1]}},
    resources={"gpus_per_trial": 1, "workers_per_trial": 4},
)


def test_hand_computed_trial_cost(tmp_path):
    s = study(**SMALL, artifacts_dir=str(tmp_path))
    c, src = cost.real_trial_cost(s, "dpo")
    assert "max_rows" in src
    N, NJ, peak, mfu = 14.0e9, 1.4e9, 989e12, 0.35
    L = 512 / 2
    train = 6 * N * 1000 * 2 * L * 2 / (peak * mfu)  # c=6 without checkpointing, 2 epochs
    tokens = 100 * (L + 256)
    # held-out pairs; the exact KL's two passes (SFT + policy) over the replies; the judge
    forward = 2 * N * 10 * 2 * L + 2 * 2 * N * tokens + 2 * NJ * tokens
    evaluation = forward / (peak * mfu) + 2 * N * tokens / (peak * 0.05)
    assert c.train_gpu_s == pytest.approx(train)
    assert c.eval_s == pytest.approx(evaluation)
    assert c.gpus == 4
    # three samples per prompt: three times the replies to generate, measure and judge
    c3, _ = cost.real_trial_cost(study(**{**SMALL, "generation": {**SMALL["generation"],
                                                                  "samples_per_prompt": 3}},
                                       artifacts_dir=str(tmp_path)), "dpo")
    heldout = 2 * N * 10 * 2 * L / (peak * mfu)
    assert c3.eval_s - heldout == pytest.approx(3 * (evaluation - heldout))
    assert c.gpu_hours == pytest.approx((train + 4 * (evaluation + 600)) / 3600)
    assert c.wall_hours == pytest.approx((train / 4 + evaluation + 600) / 3600)


def test_properties(tmp_path):
    base = dict(SMALL, artifacts_dir=str(tmp_path))
    c1 = cost.real_trial_cost(study(**base), "dpo")[0]
    more_gpus = cost.real_trial_cost(study(**{**base, "resources": {"workers_per_trial": 8}}), "dpo")[0]
    # training GPU-hours are shared, not multiplied; held GPUs during evaluation are counted
    assert more_gpus.train_gpu_s == pytest.approx(c1.train_gpu_s)
    assert more_gpus.gpu_hours - c1.gpu_hours == pytest.approx(4 * (c1.eval_s + 600) / 3600)
    assert more_gpus.wall_hours < c1.wall_hours
    # epochs scale training linearly; checkpointing adds a forward pass (8/6)
    one_epoch = cost.real_trial_cost(study(**{**base, "grid": {"epochs": [1]}}), "dpo")[0]
    assert c1.train_gpu_s == pytest.approx(2 * one_epoch.train_gpu_s)
    ckpt = cost.real_trial_cost(study(**{**base, "training": {"gradient_checkpointing": True}}), "dpo")[0]
    assert ckpt.train_gpu_s == pytest.approx(c1.train_gpu_s * 8 / 6)
    # vLLM decodes at 0.2 of peak instead of 0.05
    vllm = cost.real_trial_cost(study(**{**base, "generation": {"backend": "vllm"}}), "dpo")[0]
    assert vllm.eval_s < c1.eval_s


def test_prepare_cost_counts_the_reference_only_when_needed(tmp_path):
    base = dict(SMALL, artifacts_dir=str(tmp_path))
    with_ref = cost.prepare_gpu_hours(study(**base))
    without = cost.prepare_gpu_hours(study(**{**base, "methods": {"simpo": {"beta": [2.0], "gamma": [1.0]}}}))
    N, L = 14.0e9, 256
    assert with_ref - without == pytest.approx(2 * N * (1000 + 10) * 2 * L / (989e12 * 0.35) / 3600)


def test_prepared_row_counts_replace_published_sizes(tmp_path):
    """After --prepare-only the plan uses the filtered row counts of the prepared data."""
    import pandas as pd

    from harness.artifacts import PreparedStudy, study_folder

    s = study(artifacts_dir=str(tmp_path))
    before, src = cost.real_trial_cost(s, "dpo")
    assert "published size before filtering" in src
    files = {}
    for name, n in (("train_pairs", 5000), ("heldout_pairs", 512), ("eval_prompts", 2312)):
        files[name] = tmp_path / f"{name}.parquet"
        pd.DataFrame({"x": range(n)}).to_parquet(files[name])
    PreparedStudy(study=s.study, artifacts_dir=str(tmp_path), policy="p", judge={}, generation={},
                  **{k: str(v) for k, v in files.items()}).save(study_folder(tmp_path, s.study))
    after, src = cost.real_trial_cost(s, "dpo")
    assert src == "cost model (rows of the prepared data)"
    assert after.train_gpu_s == pytest.approx(before.train_gpu_s * 5000 / 297_394)


def test_unknown_sizes_say_so(tmp_path):
    s = study(artifacts_dir=str(tmp_path),
              data={"train": {"adapter": "saferlhf", "path": "someone/other-data"}})
    assert cost.real_trial_gpu_hours(s, "dpo")[0] is None
    assert "estimated cost: unknown" in cost.plan_table(s, [])
