"""Session-wide fixtures.

``tiny_world``: a small toy world and SFT model (TINY_WORLD), built once per session and cached
across local runs under ``.test-cache/`` (ignored by git; CI builds it fresh, ~30 s).

At the end of the session the suite checks that it left no Ray processes and no Ray temp
folders behind (issue 5, "What must hold" 6).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.toyworld.config import SFTConfig, ToyWorldConfig, WorldConfig

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("PO_HARNESS_TEST_CACHE", ROOT / ".test-cache"))

TINY_WORLD = ToyWorldConfig(
    world=WorldConfig(n_train_prompts=300, n_eval_prompts=40),
    sft=SFTConfig(hidden_size=64, intermediate_size=128, epochs=6),
)

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(scope="session")
def tiny_world() -> Path:
    """Folder of the built tiny world: train_pairs.jsonl, eval_prompts.jsonl, sft/ ..."""
    from harness.toyworld.build import build_toyworld

    folder, _ = build_toyworld(TINY_WORLD, CACHE)
    return folder


def _ray_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [
        line for line in out.splitlines()
        if ("raylet" in line or "gcs_server" in line or "ray::" in line)
        and "grep" not in line
    ]


def _ray_temp_dirs() -> list[str]:
    base = Path(os.environ.get("PO_HARNESS_RAY_TMP", "/tmp"))
    return sorted(str(p) for p in base.glob("rpo-*"))


@pytest.fixture(scope="session", autouse=True)
def no_ray_leftovers():
    """Fail the session if the suite leaves Ray processes or harness Ray temp dirs behind."""
    before_procs, before_dirs = set(_ray_processes()), set(_ray_temp_dirs())
    yield
    try:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    except ImportError:
        pass
    import time

    deadline = time.time() + 20
    while time.time() < deadline and set(_ray_processes()) - before_procs:
        time.sleep(0.5)
    leftover_procs = set(_ray_processes()) - before_procs
    leftover_dirs = set(_ray_temp_dirs()) - before_dirs
    assert not leftover_procs, f"Ray processes left behind: {sorted(leftover_procs)}"
    assert not leftover_dirs, f"Ray temp folders left behind: {sorted(leftover_dirs)}"
