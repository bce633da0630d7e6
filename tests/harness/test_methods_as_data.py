"""A method's hyperparameters are written in one place: its registration (issue 11, "What must
hold" 2).

Every axis name a built-in method registers (``beta``, ``gamma_beta_ratio``, ``label_smoothing``,
``alpha``, ``dpop_lambda``, ``cpo_alpha``...) appears nowhere in ``harness/`` or ``benchmarks/``
outside ``harness/objectives/`` (the registration modules), not even in a comment or docstring:
config, grid, ids, columns, training and study.json read them from the registrations.

The shared axes (``learning_rate``, ``epochs``, registered once in
``harness/objectives/axes.py``) are common words in prose, so for them the check is on code:
no identifier and no string literal spells them outside their registration. The toy world
(``harness/toyworld/``) is exempt from that second check only: it is a plug-in whose own SFT
settings are fields of its config that happen to share those names (TRL's SFTConfig's).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from builtin_methods import built_in_objectives
from harness.objectives import SHARED_AXES

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("harness", "benchmarks")
REGISTRATIONS = ROOT / "harness" / "objectives"
SHARED_EXEMPT = (REGISTRATIONS, ROOT / "harness" / "toyworld")


def _files(exempt) -> list[Path]:
    out = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not any(path.is_relative_to(e) for e in exempt):
                out.append(path)
    assert out
    return out


def built_in_method_axes() -> set[str]:
    """Axes of the built-in methods (a test's plugin registered in this process is not one)."""
    names = {a.name for o in built_in_objectives().values() for a in o.axes}
    assert {"beta", "gamma", "gamma_beta_ratio", "label_smoothing", "alpha", "dpop_lambda",
            "cpo_alpha"} <= names
    return names


# A homonym, not a method's hyperparameter: LoRA's scaling ``alpha`` (``training.peft.alpha``,
# peft's ``lora_alpha``) is allowed in the LoRA module and in the settings class of that section.
HOMONYMS = {"alpha": (("harness/lora.py", None), ("harness/config/sections.py", "PeftSettings"))}


def _homonym_lines(path: Path, name: str) -> set[int]:
    """Lines of ``path`` where ``name`` is allowed as a homonym (see HOMONYMS)."""
    lines: set[int] = set()
    rel = str(path.relative_to(ROOT))
    for where, cls in HOMONYMS.get(name, ()):
        if where != rel:
            continue
        text = path.read_text(encoding="utf-8")
        if cls is None:
            return set(range(1, text.count("\n") + 2))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.name == cls:
                lines |= set(range(node.lineno, node.end_lineno + 1))
    return lines


def test_method_axis_names_appear_only_in_their_registrations():
    pattern = re.compile(r"\b(" + "|".join(sorted(built_in_method_axes())) + r")\b")
    found = []
    for path in _files((REGISTRATIONS,)):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in pattern.finditer(line):
                if i not in _homonym_lines(path, m.group(1)):
                    found.append(f"{path.relative_to(ROOT)}:{i}: {m.group(1)}: {line.strip()}")
    assert not found, "method hyperparameter names outside harness/objectives/:\n" + "\n".join(found)


def _code_mentions(text: str, where: str, names: set[str]) -> list[str]:
    """Identifiers and string literals of ``text`` (Python) that are one of ``names``."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string in names:
            out.append(f"{where}:{tok.start[0]}: identifier {tok.string}")
        elif tok.type == tokenize.STRING:
            try:
                value = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):
                continue  # an f-string
            if value in names:
                out.append(f"{where}:{tok.start[0]}: string {tok.string}")
    return out


def test_shared_axis_names_are_not_spelt_in_code_outside_their_registration():
    names = set(SHARED_AXES.names())
    assert names == {"learning_rate", "epochs"}
    found = [m for path in _files(SHARED_EXEMPT)
             for m in _code_mentions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), names)]
    assert not found, "shared axis names spelt outside harness/objectives/axes.py:\n" + "\n".join(found)


@pytest.mark.parametrize("text,expected", [
    ("x = cfg['epochs']\n", ["probe:1: string 'epochs'"]),
    ("def f(learning_rate): pass\n", ["probe:1: identifier learning_rate"]),
    ('"""Trains for some epochs at a learning_rate."""\n', []),
    ("y = f'{n} epochs'\n", []),
])
def test_the_code_check_sees_identifiers_and_literals_only(text, expected):
    assert _code_mentions(text, "probe", {"learning_rate", "epochs"}) == expected


def test_analysis_and_notebooks_spell_no_axis_name():
    """The analysis reads each method's axes from study.json (or the columns present): no
    registered axis name is a string literal in analysis/ or the notebook builder. (Identifiers
    are not checked there: ``alpha``/``beta`` are also matplotlib's and statistics' words.)"""
    names = built_in_method_axes() | set(SHARED_AXES.names())
    files = sorted((ROOT / "analysis").rglob("*.py")) + [ROOT / "notebooks" / "build_notebooks.py"]
    found = [m for path in files
             for m in _code_mentions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), names)
             if " string " in m]
    assert not found, "axis names spelt in the analysis:\n" + "\n".join(found)
