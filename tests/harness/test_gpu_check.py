"""benchmarks/gpu_check.py --tiny runs on CPU and prints its table (issue 12, "What must
hold" 6): the same code as on a GPU, at a tiny size; every row is there and the measured ones
hold numbers, the tiny LoRA trial ends ok with an adapter-only policy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROWS = ("device", "parameters", "training tokens/s", "training MFU",
        "peak training memory (GiB)", "HF generation tokens/s", "vLLM generation tokens/s",
        "tiny trial end to end")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_tiny_gpu_check_prints_its_table(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PO_HARNESS_RAY_TMP":
           os.environ.get("PO_HARNESS_RAY_TMP", "/tmp")}
    out_file = tmp_path / "check.md"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--tiny",
                           "--out", str(out_file)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^\| (.+?) \| (.*?) \| (.*) \|$", line)
        if m and m.group(1) not in ("measure", "---"):
            table[m.group(1)] = (m.group(2), m.group(3))
    assert list(table) == list(ROWS)
    assert out_file.read_text().strip() == proc.stdout.strip()
    assert _number(table["training tokens/s"][0]) > 0
    assert _number(table["HF generation tokens/s"][0]) > 0
    assert table["parameters"][0].endswith(" M")
    assert "no CUDA GPU" in table["vLLM generation tokens/s"][1]  # said, not invented
    assert table["training MFU"][0] == "-"  # no peak on CPU: no MFU
    assert "cost model estimate" in table["peak training memory (GiB)"][1]
    assert table["tiny trial end to end"][0].startswith("ok in ")
    assert "adapter-only policy saved: True" in table["tiny trial end to end"][1]
