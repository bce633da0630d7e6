"""sweeps/saferlhf.yaml, the paper's study: it validates, it says what the paper says, its
dry-run prints the plan offline, and offline preparation fails before any work naming every
missing model and dataset (issue 6, "What must hold" 5, and "Offline" in "Models").

The tiny-model run of the same YAML is in tests/harness/e2e/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import load_study
from harness.grid import expand

REPO = Path(__file__).resolve().parents[2]
SAFERLHF = REPO / "sweeps" / "saferlhf.yaml"


@pytest.fixture(scope="module")
def study():
    return load_study(SAFERLHF)


def _offline_env(tmp_path: Path) -> dict:
    """An environment where nothing can be fetched and the Hugging Face cache is empty."""
    home = tmp_path / "hf_home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HOME=str(home), PYTHONPATH=str(REPO))
    return env


def _cli(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.sweep", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_the_paper_setting(study):
    assert study.policy.model == "microsoft/Phi-3-medium-4k-instruct"
    assert study.policy.dtype == "bfloat16"
    assert study.data.train == {"adapter": "saferlhf", "path": "PKU-Alignment/PKU-SafeRLHF",
                                "revision": "v0", "split": "train"}
    assert study.data.eval == {"adapter": "hh_rlhf", "path": "Anthropic/hh-rlhf",
                               "data_dir": "harmless-base", "split": "test"}
    assert study.judge["name"] == "oasst"
    assert study.judge["model"] == "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5"
    assert study.generation.max_new_tokens == 256
    assert study.training.gradient_checkpointing is True
    assert set(study.methods) == {"dpo", "ln_dpo", "simpo"}


def test_effective_batch_is_256(study):
    t, r = study.training, study.resources
    assert t.batch_size * t.gradient_accumulation_steps * r.workers_per_trial == 256


def test_a_trial_is_a_sharded_multi_gpu_job(study):
    r = study.resources
    assert r.workers_per_trial == 8 and r.gpus_per_trial == 1 and r.distributed == "fsdp"
    # Full fine-tuning in mixed precision needs ~16 bytes/parameter: 14e9 * 16 / 2**30 = 208.6
    # GiB, which fits 8 GPUs of 80 GB (~75 GiB usable each) but not 2.
    need_gib = 14.0e9 * 16 / 2**30
    assert 2 * 75 < need_gib < r.workers_per_trial * r.gpus_per_trial * 75


def test_grid_values_and_trial_count(study):
    specs = expand(study)
    # dpo 3 betas, ln_dpo 4, simpo 3 betas x 3 ratios; x 3 learning rates x 2 epochs x 1 seed
    assert len(specs) == (3 + 4 + 3 * 3) * 3 * 2 == 96
    lrs = {s.values["learning_rate"] for s in specs}
    assert lrs == {3e-7, 5e-7, 1e-6}  # SimPO's released range (docs/real-study.md)
    ln_betas = {s.values["beta"] for s in specs if s.method == "ln_dpo"}
    dpo_betas = {s.values["beta"] for s in specs if s.method == "dpo"}
    # LN-DPO's beta is per token: its grid sits ~|y| (~100 tokens) times above DPO's
    assert min(ln_betas) / min(dpo_betas) == pytest.approx(100)
    simpo = [s for s in specs if s.method == "simpo"]
    assert all(s.values["gamma"] == pytest.approx(s.values["beta"] * s.values["gamma_beta_ratio"])
               for s in simpo)


def test_header_says_where_the_values_come_from():
    header = "\n".join(l for l in SAFERLHF.read_text().splitlines() if l.startswith("#"))
    for needed in ("not published", "princeton-nlp/SimPO", "DPO literature", "harmless-base", "v0"):
        assert needed in header


def test_dry_run_prints_plan_and_gpu_hours_offline(tmp_path):
    proc = _cli([str(SAFERLHF), "--dry-run", "--results", str(tmp_path / "results")],
                _offline_env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^total\s+96\s+96$", out, re.M)
    m = re.search(r"estimated cost: ([\d,]+) GPU-hours for 96 trials, 8 GPU\(s\) per trial", out)
    assert m, out
    # sane for 96 full fine-tunes of a 14B model (docs/cost.md): thousands, not hundreds of
    # thousands, of GPU-hours
    assert 500 < int(m.group(1).replace(",", "")) < 20_000
    assert "preparation, once" in out
    assert not (tmp_path / "results").exists()


def test_offline_prepare_names_every_missing_model_and_dataset(tmp_path):
    proc = _cli([str(SAFERLHF), "--prepare-only", "--set", f"artifacts_dir={tmp_path / 'art'}",
                 "--results", str(tmp_path / "results")], _offline_env(tmp_path), tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr
    for name in ("microsoft/Phi-3-medium-4k-instruct", "PKU-Alignment/PKU-SafeRLHF",
                 "Anthropic/hh-rlhf", "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5"):
        assert name in err
    assert "hf download PKU-Alignment/PKU-SafeRLHF --repo-type dataset" in err
    assert "--revision v0" in err
    # failed before any work: nothing prepared, nothing recorded
    assert not (tmp_path / "art").exists() and not (tmp_path / "results").exists()
