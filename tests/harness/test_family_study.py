"""sweeps/family.yaml: every built-in method with a small grid, sources named, time measured
(issue 11, "What must hold" 5; the run itself is measured, not tested: see its header)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.config import load_study
from harness.grid import expand
from builtin_methods import built_in_objectives
from harness.objectives import OBJECTIVES

FAMILY = Path(__file__).resolve().parents[2] / "sweeps" / "family.yaml"


def test_every_built_in_method_is_in_the_family_study():
    study = load_study(FAMILY)
    assert list(study.methods) == list(built_in_objectives())
    counts = {m: sum(s.method == m for s in expand(study)) for m in study.methods}
    assert all(2 <= n <= 6 for n in counts.values()), counts  # a small grid each


def test_each_grid_names_its_source_and_the_header_its_measured_time():
    lines = FAMILY.read_text().splitlines()
    header = "\n".join(lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))])
    assert re.search(r"Measured run time on 2 CPU cores .* UNDER LOAD", header, re.S)
    assert re.search(r"50 trials \d+(\.\d+)? min", header)
    for i, line in enumerate(lines):
        m = re.match(r"  (\w+): \{", line)
        if m and m.group(1) in OBJECTIVES:
            comment = []
            j = i - 1
            while lines[j].startswith("  #"):
                comment.insert(0, lines[j])
                j -= 1
            assert re.search(r"(19|20)\d\d|TRL|repository|oat", " ".join(comment)), m.group(1)
