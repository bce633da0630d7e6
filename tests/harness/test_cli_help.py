"""Every command line's ``--help`` (issue 15, CLI): exits 0, is plain text (no reST markup from
the docstrings it shows) and answers without importing torch, Ray or transformers, checked in
sys.modules of a fresh interpreter (not by wall time, which a busy machine distorts).

The commands are found, not listed: every ``python -m`` module of harness/ and analysis/ (a
``__main__.py`` or an ``if __name__ == "__main__"`` block) and every script in benchmarks/."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import plain

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "ray", "transformers")
MARKUP = ("``", ":func:", ":class:", ":mod:", ":meth:", ":data:", ":attr:")
MAIN = re.compile(r'^if __name__ == "__main__":', re.M)

# Run a command's main with --help in this interpreter, then report what got imported.
WRAPPER = """
import json, runpy, sys
kind, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.argv = [target, *args]
code = 0
try:
    if kind == "module":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")
except SystemExit as e:
    code = e.code or 0
sys.stdout.flush()
print("\\n@@" + json.dumps({"code": code, "heavy": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


def _module(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__main__" else rel.parts
    return ".".join(parts)


def commands() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for package in ("harness", "analysis"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path.name == "__main__.py" or MAIN.search(path.read_text(encoding="utf-8")):
                found.append(("module", _module(path), ()))
    found += [("script", str(p.relative_to(REPO)), ()) for p in sorted((REPO / "benchmarks").glob("*.py"))]
    # a command with subcommands: each subcommand's help too
    found.append(("module", "harness.toyworld", ("build",)))
    return found


def test_the_commands_are_found():
    names = {target for _, target, _ in commands()}
    assert {"harness.sweep", "harness.evaluate", "harness.toyworld", "analysis.report",
            "benchmarks/gpu_check.py"} <= names, names


@pytest.mark.parametrize("kind, target, sub", commands(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_help_is_plain_text_and_imports_nothing_heavy(kind, target, sub):
    proc = subprocess.run([sys.executable, "-c", WRAPPER, kind, target, *sub, "--help"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    text, _, tail = proc.stdout.rpartition("\n@@")
    assert proc.returncode == 0 and tail, proc.stderr[-2000:]
    facts = json.loads(tail)
    assert facts["code"] == 0, proc.stderr[-2000:]
    assert text.lstrip().startswith("usage:"), text[:300]
    found = [m for m in MARKUP if m in text] + (["'.. ' directive"] if "\n.. " in text else [])
    assert not found, f"reST markup {found} in the help of {target}:\n{text}"
    assert facts["heavy"] == [], f"{target} --help imported {facts['heavy']}"


def test_plain_turns_rest_into_text():
    doc = ("Run :func:`~harness.results.scan` and :class:`harness.grid.TrialSpec` on ``x=1``.\n"
           ".. note:: hidden\n"
           "Example::\n\n    python -m harness.sweep STUDY.yaml\n")
    assert plain(doc) == ("Run scan and harness.grid.TrialSpec on x=1.\n"
                          "Example:\n\n    python -m harness.sweep STUDY.yaml")
    assert plain(None) == ""
