"""Session-wide fixtures.

``tiny_world``: a small toy world and SFT model (TINY_WORLD), built once per session and cached
across local runs under ``.test-cache/`` (ignored by git; CI builds it fresh, ~20 s). Its SFT
model is weak; it exercises the code paths. ``default_world``: the shipped default world, for
the checks about its quality (built only when a test asks for it).

At the end of the session the suite checks that it left no Ray processes and no Ray temp
folders behind (issue 5, "What must hold" 6).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.toyworld.config import SFTConfig, ToyWorldConfig, WorldConfig

ROOT = Path(__file__).resolve().parents[1]
# Shared builders of tiny models and data (tests/fixtures/*.py): `from tiny_models import ...`.
if str(ROOT / "tests" / "fixtures") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
CACHE = Path(os.environ.get("PO_HARNESS_TEST_CACHE", ROOT / ".test-cache"))

TINY_WORLD = ToyWorldConfig(
    world=WorldConfig(n_train_prompts=300, n_eval_prompts=40),
    sft=SFTConfig(hidden_size=64, intermediate_size=128, epochs=6),
)

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(scope="session")
def default_world() -> Path:
    """The default toy world and SFT model (what `make quickstart` builds; ~2-3 min on 2 cores),
    for the checks that are about the shipped default itself."""
    from harness.toyworld.build import build_toyworld

    folder, _ = build_toyworld(ToyWorldConfig(), CACHE)
    return folder


@pytest.fixture(scope="session")
def tiny_world_config() -> ToyWorldConfig:
    return TINY_WORLD.model_copy(deep=True)


@pytest.fixture(scope="session")
def tiny_world() -> Path:
    """Folder of the built tiny world: train_pairs.jsonl, eval_prompts.jsonl, sft/ ..."""
    from harness.toyworld.build import build_toyworld

    folder, _ = build_toyworld(TINY_WORLD, CACHE)
    return folder


# Every Ray started by the suite (harness.sweep starts local Ray with its temp dir under
# PO_HARNESS_RAY_TMP) lives under this per-session root, so leftovers are ours, not another
# process's. Kept short: Ray's socket paths must stay under 107 characters.
RAY_ROOT = tempfile.mkdtemp(prefix="rpt-", dir="/tmp")
os.environ["PO_HARNESS_RAY_TMP"] = RAY_ROOT


def _ray_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if RAY_ROOT in line]


@pytest.fixture(scope="session", autouse=True)
def no_ray_leftovers():
    """Fail the session if the suite leaves Ray processes or Ray temp folders behind."""
    yield
    try:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    except ImportError:
        pass
    deadline = time.time() + 20
    while time.time() < deadline and _ray_processes():
        time.sleep(0.5)
    procs = _ray_processes()
    dirs = sorted(str(p) for p in Path(RAY_ROOT).iterdir())
    shutil.rmtree(RAY_ROOT, ignore_errors=True)
    assert not procs, f"Ray processes left behind: {procs}"
    assert not dirs, f"Ray temp folders left behind: {dirs}"
