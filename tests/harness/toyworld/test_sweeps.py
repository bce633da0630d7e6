"""The shipped toy-world studies (issue 14): betas on one scale across methods, and
sweeps/toyworld.yaml's header states its measured run time and which best configs fall on a
grid edge ("What must hold" 4), consistently with the grid it heads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness.config import load_study
from harness.toyworld.config import WorldConfig
from harness.toyworld.data import build_data, world_stats

ROOT = Path(__file__).resolve().parents[3]
STUDIES = [ROOT / "sweeps" / "quickstart.yaml", ROOT / "sweeps" / "toyworld.yaml"]
TOYWORLD = ROOT / "sweeps" / "toyworld.yaml"
PER_TOKEN = ("ln_dpo", "simpo")  # methods whose beta multiplies per-token averages


def _header(path: Path) -> str:
    return "\n".join(line[1:].strip() for line in path.read_text().splitlines()
                     if line.startswith("#"))


@pytest.fixture(scope="module")
def tokens_per_reply() -> float:
    """The factor between DPO's beta and a per-token beta: the default world's mean reply
    length in tokens (words + <|end|> + EOS)."""
    return world_stats(build_data(WorldConfig()))["mean_response_tokens"]


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.name)
def test_betas_are_on_one_scale(path, tokens_per_reply):
    study = load_study(path)
    assert f"{round(tokens_per_reply)} tokens" in _header(path)
    dpo = study.axes("dpo")["beta"]
    for method in PER_TOKEN:
        per_token = study.axes(method)["beta"]
        assert len(per_token) == len(dpo)
        for b, b_dpo in zip(per_token, dpo):
            assert 0.85 <= b / (b_dpo * tokens_per_reply) <= 1.2, (method, b, b_dpo)


def test_toyworld_header_states_run_time_and_edges():
    header = _header(TOYWORLD)
    assert re.search(r"Measured run time on 2 CPU cores.*?: [\d.]+ min", header, re.S), header
    study = load_study(TOYWORLD)
    stated = dict(re.findall(r"^best (\w+): (.+)$", header, re.M))
    assert sorted(stated) == sorted(study.methods)
    for method, text in stated.items():
        axes = study.axes(method)
        claims = dict(re.findall(r"(\w+)=([\d.e+-]+)", text))
        marks = dict(re.findall(r"(\w+)=[\d.e+-]+ \((interior|edge)\)", text))
        for axis, values in axes.items():
            if len(values) < 3:
                continue  # a two-valued axis has no interior
            assert axis in claims and axis in marks, (method, axis, text)
            value = float(claims[axis])
            assert value in values, (method, axis, value)
            on_edge = value in (min(values), max(values))
            assert marks[axis] == ("edge" if on_edge else "interior"), (method, axis, text)


def test_toyworld_header_names_the_length_recipe():
    header = _header(TOYWORLD)
    for lb in ("0", "3"):
        assert f"--set toyworld.world.length_bias={lb}" in header
    assert yaml.safe_load(TOYWORLD.read_text())["study"] == "toyworld"
