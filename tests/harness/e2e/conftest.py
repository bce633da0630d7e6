"""Fixtures for the real-study path on tiny models: a tiny random Phi-3 policy, a tiny
Open-Assistant reward model (built once per session, nothing committed) and study YAMLs made
from sweeps/saferlhf.yaml itself, pointed at them and at the upstream-layout data fixtures.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from tiny_models import build_oasst_judge, build_phi3  # noqa: E402

from harness.config import parse_yaml  # noqa: E402

DATA = FIXTURES / "data"


@pytest.fixture(scope="session")
def tiny_phi3(tmp_path_factory) -> Path:
    return build_phi3(tmp_path_factory.mktemp("models") / "phi3")


@pytest.fixture(scope="session")
def tiny_oasst(tmp_path_factory) -> Path:
    return build_oasst_judge(tmp_path_factory.mktemp("judges") / "oasst-rm")


def tiny_saferlhf(phi3: Path, rm: Path, root: Path) -> dict:
    """sweeps/saferlhf.yaml with its Hub ids replaced by the fixtures and its sizes shrunk to
    seconds on a CPU; every other key (generation, training, methods...) as the file has it."""
    raw = copy.deepcopy(parse_yaml((REPO / "sweeps" / "saferlhf.yaml").read_text()))
    raw["artifacts_dir"] = str(root / "artifacts")
    raw["results_dir"] = str(root / "results")
    raw["data"]["train"].update(path=str(DATA / "saferlhf"), revision=None)
    raw["data"]["eval"].update(path=str(DATA / "hh_rlhf"))
    raw["data"]["heldout_pairs"] = 0  # 4 fixture pairs: all for training
    raw["policy"].update(model=str(phi3), dtype="float32")  # CPU
    raw["judge"].update(model=str(rm), batch_size=8, max_length=1024)  # no truncation
    raw["generation"].update(max_new_tokens=12, batch_size=8)
    # 1 pair per device and no warmup: every trial takes real optimizer steps on 4 pairs
    raw["training"].update(batch_size=1, gradient_accumulation_steps=1, warmup_ratio=0.0,
                           logging_steps=1, max_length=256)
    raw["grid"] = {"learning_rate": [1e-3], "epochs": [1], "seed": [0]}
    raw["methods"] = {"dpo": {"beta": [0.1]}, "ln_dpo": {"beta": [1.0]},
                      "simpo": {"beta": [2.0], "gamma_beta_ratio": [0.5]}}
    raw["resources"] = {"cpus_per_trial": 1}
    raw["ray"] = {"max_concurrent": 2, "reuse_actors": True}
    return raw


@pytest.fixture(scope="session")
def study_root(tmp_path_factory) -> Path:
    """One artifacts folder for the session: the data, reference and baseline are prepared once."""
    return tmp_path_factory.mktemp("saferlhf-tiny")


@pytest.fixture(scope="session")
def write_study(tiny_phi3, tiny_oasst, study_root):
    """``write_study(name, **section_changes) -> yaml path``; results go to ``<root>/<name>/``."""

    def write(name: str, **changes) -> Path:
        raw = tiny_saferlhf(tiny_phi3, tiny_oasst, study_root)
        raw["results_dir"] = str(study_root / name)
        for key, value in changes.items():
            raw[key] = value
        path = study_root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        return path

    return write
