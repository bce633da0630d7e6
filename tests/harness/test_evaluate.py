"""The evaluation stage: KL against the SFT model, the cached SFT baseline, empty replies and the
CLI, on a tiny random Phi3ForCausalLM with the toy world's tokenizer, eval prompts and judge.

The model's lm_head is biased towards <|end|> (about 5% stop per step on a near-uniform
368-word vocabulary) so replies have mixed lengths, some stopped and some cut at the limit.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from harness import evaluate as ev
from harness.artifacts import PreparedStudy
from harness.io import write_parquet_atomic
from tiny_models import tiny_phi3, with_stop_bias

from harness.evaluate import BASELINE_STATS, build_baseline, evaluate_policy, main
from harness.judges import build_judge
from harness.schema import MODEL_METRICS, SAMPLE_COLUMNS
from harness.toyworld.config import WorldConfig
from harness.toyworld.data import build_data
from harness.toyworld.judge import COMPONENTS, gold_breakdown, gold_score
from harness.toyworld.tokenizer import build_tokenizer
from harness.toyworld.world import vocabulary

GEN = {"max_new_tokens": 10, "batch_size": 4, "seed": 0}
JUDGE = {"name": "toy"}
# The toy judge offers a breakdown: its components follow the contract's columns.
TOY_COLUMNS = list(SAMPLE_COLUMNS) + [f"judge_{c}" for c in COMPONENTS]


class CountingJudge:
    """The toy judge, counting how many replies it was asked to score."""

    name = "toy"

    def __init__(self):
        self.inner, self.calls, self.scored = build_judge(JUDGE), 0, 0

    def score(self, prompts, responses):
        self.calls += 1
        self.scored += len(responses)
        return self.inner.score(prompts, responses)


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(vocabulary())


@pytest.fixture(scope="module")
def end(tok):
    return tok.convert_tokens_to_ids("<|end|>")


@pytest.fixture(scope="module")
def sft(tok, end):
    return with_stop_bias(tiny_phi3(tok), end, 3.0)


@pytest.fixture(scope="module")
def eval_df():
    rows = build_data(WorldConfig(n_train_prompts=4, n_eval_prompts=8)).eval_prompts
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, sft, tok, eval_df):
    path = tmp_path_factory.mktemp("baseline") / "baseline.parquet"
    return build_baseline(sft, tok, eval_df, JUDGE, GEN, path)


def test_baseline_rows(baseline, eval_df):
    assert list(baseline.columns) == TOY_COLUMNS
    assert (baseline["trial_id"] == "sft").all()
    assert baseline["prompt_id"].tolist() == eval_df["prompt_id"].tolist()
    assert (baseline["kl"] == 0).all() and (baseline["kl_per_token"] == 0).all()
    assert (baseline["kl_sample"] == 0).all() and (baseline["sample_index"] == 0).all()
    assert baseline["sft_score"].equals(baseline["score"])  # one sample: its own score
    for (_, b), (_, e) in zip(baseline.iterrows(), eval_df.iterrows()):
        text = e["prompt"][-1]["content"]
        assert b["score"] == gold_score(text, b["response"])
        assert b["chosen_score"] == gold_score(text, e["chosen"])
        parts = gold_breakdown(text, b["response"])
        assert [b[f"judge_{c}"] for c in COMPONENTS] == [parts[c] for c in COMPONENTS]


def test_sft_against_itself_has_zero_kl_and_half_win(sft, tok, eval_df, baseline):
    """What must hold 1: same model, same seed -> same samples, kl == 0, win_vs_sft == 0.5."""
    res = evaluate_policy(sft, tok, sft, eval_df, baseline, build_judge(JUDGE), GEN, "self")
    s = res.samples
    assert list(s.columns) == TOY_COLUMNS and list(res.metrics) == list(MODEL_METRICS)
    judged = s[[f"judge_{c}" for c in COMPONENTS]].sum(axis=1)
    np.testing.assert_allclose(judged, s["score"], rtol=0, atol=1e-12)
    assert s["response"].tolist() == baseline["response"].tolist()
    assert s["length"].tolist() == baseline["length"].tolist()
    np.testing.assert_allclose(s["kl"], 0.0, atol=1e-5)
    assert abs(res.metrics["mean_kl"]) < 1e-5
    assert res.metrics["win_vs_sft"] == 0.5
    assert set(res.timings) == {"time_generate_s", "time_judge_s", "time_kl_s"}
    assert all(v >= 0 for v in res.timings.values())


def test_perturbed_policy_has_positive_kl(sft, tok, eval_df, baseline):
    """What must hold 2: a perturbed copy -> mean_kl > 0; kl_per_token == kl / length."""
    policy = copy.deepcopy(sft)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * p.std() * torch.randn(p.shape, generator=gen))
        policy.lm_head.weight.add_(0.5 * torch.randn(policy.lm_head.weight.shape, generator=gen))
    res = evaluate_policy(policy, tok, sft, eval_df, baseline, build_judge(JUDGE), GEN, "noisy")
    s = res.samples
    assert res.metrics["mean_kl"] > 0 and (s["kl"] > 0).all()  # exact KL: every response
    np.testing.assert_allclose(s["kl_per_token"], s["kl"] / s["length"], rtol=1e-12)
    # kl_sample = sum log pi_theta - sum log pi_sft over exactly the sampled ids (prompt excluded)
    np.testing.assert_allclose(s["kl_sample"], res.details["logp"] - res.details["sft_logp"])
    assert res.metrics["kl_per_token"] == pytest.approx(s["kl"].sum() / s["length"].sum())
    assert res.metrics["mean_kl_sample"] == pytest.approx(s["kl_sample"].mean())
    assert not s["response"].equals(baseline["response"])  # it really sampled differently
    # chosen/sft scores come from the baseline, aligned by prompt_id
    assert s["chosen_score"].tolist() == baseline["chosen_score"].tolist()
    assert s["sft_score"].tolist() == baseline["score"].tolist()


def test_kl_runs_each_model_once_per_batch_over_the_sampled_ids(sft, tok, eval_df, baseline):
    """The KL needs one teacher-forced pass of the SFT model and one of the policy per batch of
    generated responses (no SFT generation, no second SFT pass), and the SFT log-probs agree with
    single-sequence passes."""
    policy = copy.deepcopy(sft)
    with torch.no_grad():
        policy.lm_head.weight.mul_(3.0)
    calls = {"sft": 0, "policy": 0}
    hooks = [m.register_forward_hook(lambda *_, k=k: calls.__setitem__(k, calls[k] + 1))
             for k, m in (("sft", sft), ("policy", policy))]
    cfg = {**GEN, "samples_per_prompt": 2}
    try:
        res = evaluate_policy(policy, tok, sft, eval_df, baseline, build_judge(JUDGE), cfg, "t")
    finally:
        for h in hooks:
            h.remove()
    n_batches = -(-2 * len(eval_df) // GEN["batch_size"])
    assert calls["sft"] == n_batches  # the KL's SFT pass only
    assert calls["policy"] > n_batches  # generation steps, then one pass per batch
    s = res.samples
    assert s["sample_index"].tolist() == [0, 1] * len(eval_df)
    assert s["prompt_id"].tolist() == np.repeat(eval_df["prompt_id"], 2).tolist()
    # the SFT log-probs against single-sequence passes (the same samples, drawn again)
    gens = ev.generate(policy, tok, ev.eval_prompts(eval_df), cfg)
    assert [len(r) for r in gens.response_ids] == s["length"].tolist()
    for p, r, lp in zip(gens.prompt_ids, gens.response_ids, res.details["sft_logp"]):
        with torch.no_grad():
            logits = sft(input_ids=torch.tensor([p + r])).logits[0, len(p) - 1 : -1]
        ref = torch.log_softmax(logits.double(), -1).gather(-1, torch.tensor(r)[:, None]).sum()
        assert lp == pytest.approx(float(ref), abs=1e-4)


def test_several_samples_per_prompt(tmp_path, sft, tok, eval_df):
    """generation.samples_per_prompt = 3: three rows per prompt in the baseline and in a trial's
    samples; the baseline's sft_score is the prompt's mean over its samples."""
    cfg = {**GEN, "samples_per_prompt": 3}
    base = build_baseline(sft, tok, eval_df, JUDGE, cfg, tmp_path / "b.parquet")
    assert len(base) == 3 * len(eval_df)
    assert base["sample_index"].tolist() == [0, 1, 2] * len(eval_df)
    means = base.groupby("prompt_id", sort=False)["score"].transform("mean")
    np.testing.assert_allclose(base["sft_score"], means)
    assert base.groupby("prompt_id")["response"].nunique().max() > 1  # really separate draws
    res = evaluate_policy(sft, tok, sft, eval_df, base, build_judge(JUDGE), cfg, "self3")
    assert len(res.samples) == 3 * len(eval_df)
    assert res.samples["response"].tolist() == base["response"].tolist()  # same seed, same model
    np.testing.assert_allclose(res.samples["sft_score"], base["sft_score"])


def test_baseline_cache_hit_does_not_generate_or_score(tmp_path, sft, tok, eval_df, monkeypatch):
    """What must hold 6: the second evaluation reuses the cached baseline."""
    calls = {"generate": 0}
    real_generate = ev.generate

    def counting_generate(*a, **k):
        calls["generate"] += 1
        return real_generate(*a, **k)

    monkeypatch.setattr(ev, "generate", counting_generate)
    judge = CountingJudge()
    path = tmp_path / "cache" / "baseline.parquet"
    built, hits = BASELINE_STATS["built"], BASELINE_STATS["hits"]

    first = build_baseline(sft, tok, eval_df, judge, GEN, path, judge_spec=JUDGE)
    assert first.attrs["cache_hit"] is False and path.exists()
    assert calls["generate"] == 1 and judge.scored == 2 * len(eval_df)  # replies + chosen
    # no temp left: the cache and its checksum
    assert sorted(p.name for p in path.parent.iterdir()) == ["baseline.parquet",
                                                              "baseline.parquet.sha256"]

    # a judge without a breakdown (this wrapper has only score) writes no judge_ columns
    assert list(first.columns) == list(SAMPLE_COLUMNS)

    second = build_baseline(sft, tok, eval_df, judge, GEN, path, judge_spec=JUDGE)
    assert second.attrs["cache_hit"] is True
    assert calls["generate"] == 1 and judge.calls == 1  # neither generated nor scored again
    assert (BASELINE_STATS["built"], BASELINE_STATS["hits"]) == (built + 1, hits + 1)
    pd.testing.assert_frame_equal(first, second)

    # a hit also through evaluate_policy's consumers: a study's baseline is reused as is
    res = evaluate_policy(sft, tok, sft, eval_df, second, judge, GEN, "again")
    assert calls["generate"] == 2 and judge.scored == 2 * len(eval_df) + len(eval_df)
    assert res.metrics["win_vs_sft"] == 0.5

    # anything in the key changing is a miss: generation settings, eval data
    build_baseline(sft, tok, eval_df, judge, {**GEN, "seed": 1}, path, judge_spec=JUDGE)
    assert calls["generate"] == 3
    build_baseline(sft, tok, eval_df.iloc[:5], judge, {**GEN, "seed": 1}, path, judge_spec=JUDGE)
    assert calls["generate"] == 4
    with pytest.raises(TypeError, match="judge_spec"):
        build_baseline(sft, tok, eval_df, judge, GEN, path)


def test_empty_responses_are_scored_and_counted(sft, tok, end, eval_df, baseline):
    """What must hold 7: an empty reply keeps its row and gets the judge's score."""
    mute = with_stop_bias(sft, end, 60.0)  # always chooses <|end|> first
    res = evaluate_policy(mute, tok, sft, eval_df, baseline, build_judge(JUDGE), GEN, "mute")
    s = res.samples
    assert len(s) == len(eval_df)
    assert (s["response"] == "").all() and (s["length"] == 1).all()
    assert s["finished"].all()
    expected = [gold_score(p[-1]["content"], "") for p in eval_df["prompt"]]
    assert s["score"].tolist() == expected
    assert res.metrics["mean_length"] == 1.0
    assert res.metrics["mean_score"] == pytest.approx(np.mean(expected))
    np.testing.assert_allclose(s["kl_per_token"], s["kl"])  # length 1


def test_baseline_must_cover_every_eval_prompt(sft, tok, eval_df, baseline):
    with pytest.raises(ValueError, match="no row for 2 eval prompt.*eval-0006"):
        evaluate_policy(sft, tok, sft, eval_df, baseline.iloc[:6], build_judge(JUDGE), GEN, "x")


@pytest.fixture(scope="module")
def study(tmp_path_factory, tok, eval_df):
    root = tmp_path_factory.mktemp("study")
    model_dir = root / "sft"
    tiny_phi3(tok).save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    write_parquet_atomic(root / "eval.parquet", eval_df, seal=True)  # as prepare writes it
    PreparedStudy(
        study="toy", artifacts_dir=str(root), train_pairs="", heldout_pairs="",
        eval_prompts=str(root / "eval.parquet"), policy=str(model_dir), judge=JUDGE,
        generation={"max_new_tokens": 4, "batch_size": 8},
    ).save(root)
    return root


def test_cli_evaluates_a_folder_and_caches_the_baseline(study, tmp_path, capsys):
    out = tmp_path / "samples.parquet"
    hits = BASELINE_STATS["hits"]
    assert main(["--model", str(study / "sft"), "--artifacts", str(study), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "kl_per_token" in printed and "time_kl_s" in printed
    assert "sft (baseline)" in printed and "\nsft " in printed  # both rows
    samples = pd.read_parquet(out)
    assert list(samples.columns) == TOY_COLUMNS and len(samples) == 8
    assert (samples["trial_id"] == "sft").all()  # the folder's name
    np.testing.assert_allclose(samples["kl"], 0.0, atol=1e-5)  # the SFT folder itself
    assert (study / "baseline.parquet").exists()
    assert main(["--model", str(study / "sft"), "--artifacts", str(study), "--seed", "5",
                 "--trial-id", "seed5"]) == 0
    assert BASELINE_STATS["hits"] == hits + 1
    assert "seed5" in capsys.readouterr().out


def test_cli_names_a_missing_folder(study, tmp_path, capsys):
    assert main(["--model", str(tmp_path / "nope"), "--artifacts", str(study)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["--model", str(study / "sft"), "--artifacts", str(tmp_path / "gone")]) == 2
    assert "no prepared study" in capsys.readouterr().err
