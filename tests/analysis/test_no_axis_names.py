"""Methods as data: the analysis package and the notebook builder never name a hyperparameter.

Every axis name the methods register (the fixture's registrations stand in for the harness's
objective registry here) must not appear as a string literal in analysis/ or in
notebooks/build_notebooks.py: axes are read from study.json (or the columns present)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_registered_axis_name_is_written_in_the_analysis(rf):
    names = sorted(set(rf.AXES))
    assert {"beta", "learning_rate", "tau"} <= set(names)
    pattern = re.compile(r"""["'](%s)["']""" % "|".join(map(re.escape, names)))
    files = sorted((ROOT / "analysis").rglob("*.py")) + [ROOT / "notebooks" / "build_notebooks.py"]
    hits = []
    for f in files:
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not hits, "hyperparameter names written in the analysis:\n" + "\n".join(hits)
