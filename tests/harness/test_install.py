"""Installing for GPUs without breaking the CPU default (issue 12, "Installing for GPUs").

What can be checked without a GPU: the default `make venv` is the CPU recipe it always was;
`TORCH=cuda` adds a guard that stops on a CPU build of torch (run here, where torch is a CPU
build, it must refuse); every extra is pinned; peft, which the CPU LoRA tests need, is a base
requirement and the installed version is the pinned one.
"""

from __future__ import annotations

import configparser
import importlib.metadata as md
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _make_n(*args: str) -> list[str]:
    proc = subprocess.run(["make", "-n", "-B", "venv", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _requirements(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_default_venv_is_the_cpu_recipe():
    lines = _make_n()
    torch_line = next(l for l in lines if "install" in l and "torch==" in l)
    assert "torch==2.13.0" in torch_line and "--index-url" not in torch_line
    assert not any("torch.version.cuda" in l for l in lines)
    assert any("-e '.[dev]'" in l for l in lines)


def test_cuda_venv_guards_against_a_cpu_torch():
    lines = _make_n("TORCH=cuda", "EXTRAS=dev,gpu", "TORCH_INDEX=file:///cuda-wheels")
    torch_line = next(l for l in lines if "install" in l and "torch==" in l)
    assert "--index-url file:///cuda-wheels" in torch_line
    assert any("-e '.[dev,gpu]'" in l for l in lines)
    guard = next(l for l in lines if "torch.version.cuda" in l)
    # run the guard with this (CPU) environment's python: it must refuse with the fix
    python = str(REPO / ".venv" / "bin" / "python")
    proc = subprocess.run(guard.replace(".venv/bin/python", python), shell=True, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "CPU build of torch" in proc.stderr and "TORCH_INDEX" in proc.stderr


def test_extras_are_pinned_and_peft_is_a_base_requirement():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    extras = cfg["options.extras_require"]
    for name in ("gpu", "deepspeed", "vllm", "flash-attn", "wandb", "mlflow", "trackio",
                 "tracking"):
        reqs = _requirements(extras[name])
        assert reqs, name
        assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", r) for r in reqs), (name, reqs)
    base = _requirements(cfg["options"]["install_requires"])
    peft = next(r for r in base if r.startswith("peft"))
    assert peft == f"peft=={md.version('peft')}"
