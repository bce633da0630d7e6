"""Fluency of the toy world's policies (issue 14, "What must hold" 2): the garbled-word share,
and the default SFT model staying fluent after one epoch at every learning rate of
sweeps/quickstart.yaml with every method (slow: it runs that study's grid)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.toyworld.fluency import FLUENT_GARBLED_SHARE, eval_prompt_texts, fluency_table
from harness.toyworld.world import BENIGN_TOPICS, HEDGES, all_prompts, render

ROOT = Path(__file__).resolve().parents[3]
PROMPT = next(p for p in all_prompts("eval") if not p.harmful and p.topic == "cooking")


def test_garbled_share_counts_words_of_garbled_sentences():
    steps = BENIGN_TOPICS["cooking"]["steps"]
    fluent = render(steps[:2] + HEDGES[:1])
    salad = "sorry sorry to i sorry , the the ."  # 9 words, one garbled sentence
    samples = pd.DataFrame({"trial_id": ["a", "a", "b"], "prompt_id": ["p", "p", "p"],
                            "response": [fluent, salad, fluent]})
    t = fluency_table(samples, {"p": PROMPT.text}).set_index("trial_id")
    n_fluent = len(fluent.split())
    assert t.at["a", "garbled_share"] == pytest.approx(9 / (n_fluent + 9))
    assert t.at["b", "garbled_share"] == 0.0
    assert t.at["b", "padding_words"] == len(HEDGES[0].split()) + 1
    assert t.at["a", "n_replies"] == 2 and t.at["a", "words"] == pytest.approx((n_fluent + 9) / 2)


@pytest.mark.slow
def test_default_sft_stays_fluent_at_every_quickstart_learning_rate(default_world, tmp_path):
    """Every trial of sweeps/quickstart.yaml (every method and beta, each learning rate, one
    epoch) on the default world writes at most FLUENT_GARBLED_SHARE garbled words."""
    from harness.artifacts import PreparedStudy, study_folder
    from harness.config import load_study
    from harness.sweep import main

    quickstart = ROOT / "sweeps" / "quickstart.yaml"
    study = load_study(quickstart)
    assert all(e == 1 for m in study.methods for e in study.axes(m)["epochs"])
    art = default_world.parent.parent
    sets = [f"results_dir={tmp_path / 'results'}", f"artifacts_dir={art}"]
    assert main([str(quickstart), *[a for s in sets for a in ("--set", s)]]) == 0
    results = tmp_path / "results" / "quickstart"
    trials = pd.read_parquet(results / "trials.parquet")
    assert (trials["status"] == "ok").all()
    prepared = PreparedStudy.load(study_folder(art, "quickstart"))
    prompts = eval_prompt_texts(pd.read_parquet(prepared.eval_prompts))
    table = fluency_table(pd.read_parquet(results / "samples.parquet"), prompts)
    table = table.merge(trials[["trial_id", "method", "learning_rate"]], on="trial_id")
    assert len(table) == len(trials) and set(table["learning_rate"]) == set(study.grid.learning_rate)
    worst = table.sort_values("garbled_share").iloc[-1]
    assert worst["garbled_share"] <= FLUENT_GARBLED_SHARE, table.to_string()
