"""The ``--dry-run`` plan: the trial table and an estimated cost, without training anything.

Toy world: trial time is *measured* — the median ``time_total_s`` of this study's recorded
trials per method when there are any, else the median of every toy-world trial recorded under
``results_dir``, else the calibration below (from ``benchmarks/bench_train.py`` on 2 CPU cores).

Real models: a tokens x parameters cost model, in GPU-hours (documented in docs/cost.md)::

    train    = 6 * N_policy * n_pairs * 2 * L * epochs        (forward + backward, chosen + rejected)
    generate = 2 * N_policy * n_eval * (L_prompt + max_new_tokens) / generation_efficiency
    kl       = 2 * N_policy * n_eval * (L_prompt + max_new_tokens)   (one SFT forward pass)
    judge    = 2 * N_judge  * n_eval * L
    hours    = sum / (PEAK_FLOPS * MFU) / 3600 * gpus_per_trial * workers_per_trial

with ``L = max_length / 2`` tokens per sequence (an assumption: real pairs are shorter than the
limit), ``MFU = 0.35`` for training and the forward passes, and a generation efficiency of 0.05
for the HF backend (decoding is memory-bound) or 0.2 for vLLM. ``PEAK_FLOPS`` is an H100's dense
bf16 peak. Parameter counts come from the model's config.json when it is local or cached, else
from ``KNOWN_PARAMETERS``; pair counts from prepared data, ``max_rows``, or ``KNOWN_ROWS`` (rows
before filtering: an upper bound).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

PEAK_FLOPS = 989e12  # H100 SXM dense bf16
MFU = 0.35
GENERATION_EFFICIENCY = {"hf": 0.05, "vllm": 0.2}
KNOWN_PARAMETERS = {
    "microsoft/Phi-3-medium-4k-instruct": 14.0e9,
    "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5": 1.4e9,
}
# (dataset, data_dir or name, split) -> rows
KNOWN_ROWS = {
    ("PKU-Alignment/PKU-SafeRLHF", None, "train"): 73_907,
    ("PKU-Alignment/PKU-SafeRLHF@v0", None, "train"): 297_394,
    ("Anthropic/hh-rlhf", "harmless-base", "test"): 2_312,
    ("Anthropic/hh-rlhf", "helpful-base", "test"): 2_354,
    ("Anthropic/hh-rlhf", "helpful-online", "test"): 1_137,
    ("Anthropic/hh-rlhf", "helpful-rejection-sampled", "test"): 2_749,
    ("Anthropic/hh-rlhf", None, "test"): 8_552,
}
# Toy-world calibration (2 shared CPU cores, 1 core per trial): seconds per training pair-epoch,
# per eval prompt, and fixed per-trial overhead. benchmarks/bench_train.py re-measures them.
TOY_S_PER_PAIR_EPOCH = 0.012
TOY_S_PER_EVAL_PROMPT = 0.03
TOY_TRIAL_OVERHEAD_S = 3.0


def _recorded_times(results_dir: Path, study_name: str | None) -> dict[str, list[float]]:
    root = Path(results_dir)
    pattern = f"{study_name}/trials/*/row.json" if study_name else "*/trials/*/row.json"
    out: dict[str, list[float]] = {}
    for p in root.glob(pattern):
        row = json.loads(p.read_text())
        if row.get("status") == "ok" and row.get("time_total_s"):
            out.setdefault(row["method"], []).append(float(row["time_total_s"]))
    return out


def toy_trial_seconds(study) -> tuple[dict[str, float], str]:
    """Per-method seconds per trial for a toy-world study, and where the number comes from."""
    own = _recorded_times(study.results_dir, study.study)
    if own:
        src = f"median of {sum(map(len, own.values()))} recorded trials of this study"
        times = own
    else:
        times = _recorded_times(study.results_dir, None)
        src = f"median of {sum(map(len, times.values()))} recorded toy-world trials" if times else ""
    if times:
        fallback = statistics.median([t for v in times.values() for t in v])
        return {m: statistics.median(times.get(m, [fallback])) for m in study.methods}, src
    w = study.toyworld.world
    pairs = w.n_train_prompts - study.data.heldout_pairs
    per = {}
    for m in study.methods:
        epochs = statistics.mean(study.axes(m)["epochs"])
        per[m] = (TOY_TRIAL_OVERHEAD_S + pairs * epochs * TOY_S_PER_PAIR_EPOCH
                  + w.n_eval_prompts * TOY_S_PER_EVAL_PROMPT)
    return per, "calibration constants (no recorded trial yet)"


def _parameters(name: str) -> float | None:
    if name in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[name]
    cfg = Path(name) / "config.json"
    if not cfg.exists():
        return None
    c = json.loads(cfg.read_text())
    h, n_layers, vocab = c.get("hidden_size"), c.get("num_hidden_layers"), c.get("vocab_size")
    inter = c.get("intermediate_size", 4 * (h or 0))
    if not (h and n_layers and vocab):
        return None
    kv = c.get("num_key_value_heads", c.get("num_attention_heads", 1))
    heads = c.get("num_attention_heads", 1)
    attn = h * h * 2 + 2 * h * h * kv / heads
    return float(2 * vocab * h + n_layers * (attn + 3 * h * inter))


def _rows(spec: dict) -> tuple[int | None, str]:
    if spec.get("max_rows"):
        return int(spec["max_rows"]), "max_rows"
    path = spec.get("path")
    if spec.get("revision"):
        path = f"{path}@{spec['revision']}"
    key = (path, spec.get("data_dir") or spec.get("name"), spec.get("split", "train"))
    if key in KNOWN_ROWS:
        return KNOWN_ROWS[key], "published size before filtering"
    return None, "unknown offline"


def real_trial_gpu_hours(study, method: str) -> tuple[float | None, str]:
    n_policy = _parameters(study.policy.model)
    judge_model = study.judge.get("model") or KNOWN_PARAMETERS and (
        "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5" if study.judge["name"] == "oasst" else None)
    n_judge = _parameters(judge_model) if judge_model else 0.0
    n_pairs, src_pairs = _rows(study.data.train)
    n_eval, src_eval = _rows(study.data.eval)
    if not (n_policy and n_pairs and n_eval):
        return None, f"parameters or sizes unknown offline (pairs: {src_pairs}, eval: {src_eval})"
    length = study.training.max_length / 2
    epochs = statistics.mean(study.axes(method)["epochs"])
    gen_tokens = length + study.generation.max_new_tokens
    eff = GENERATION_EFFICIENCY.get(study.generation.backend, 0.05)
    flops_fast = (6 * n_policy * n_pairs * 2 * length * epochs
                  + 2 * n_policy * n_eval * gen_tokens + 2 * (n_judge or 0) * n_eval * length)
    seconds = flops_fast / (PEAK_FLOPS * MFU) + 2 * n_policy * n_eval * gen_tokens / (PEAK_FLOPS * eff)
    r = study.resources
    gpus = max(r.gpus_per_trial * r.workers_per_trial, 1)
    return seconds / 3600 * gpus, f"cost model (pairs: {src_pairs}, eval: {src_eval})"


def plan_table(study, specs, done: set[str] = frozenset()) -> str:
    """The dry-run printout: trials per method, grid axes, total, estimated cost."""
    count = Counter(s.method for s in specs)
    left = Counter(s.method for s in specs if s.trial_id not in done)
    lines = [f"study {study.study}: {len(specs)} trials ({len(specs) - sum(left.values())} "
             f"already recorded) -> {study.results_path}", ""]
    lines.append(f"{'method':<8} {'trials':>6} {'to run':>6}  grid")
    for m in study.methods:
        axes = ", ".join(f"{k}={v}" for k, v in study.axes(m).items())
        lines.append(f"{m:<8} {count[m]:>6} {left[m]:>6}  {axes}")
    lines.append(f"{'total':<8} {len(specs):>6} {sum(left.values()):>6}")
    lines.append("")
    if study.toyworld is not None:
        per, src = toy_trial_seconds(study)
        total = sum(per[m] * left[m] for m in study.methods)
        r = study.resources
        lines.append(f"estimated cost: {total / 3600:.3f} trial-hours ({total / 60:.1f} trial-minutes; "
                     f"per trial: " + ", ".join(f"{m} {per[m]:.0f} s" for m in study.methods)
                     + f"; from {src}); CPU cores per trial: {r.cpus_per_trial:g}")
    else:
        parts, total, src = [], 0.0, ""
        for m in study.methods:
            h, src = real_trial_gpu_hours(study, m)
            if h is None:
                parts = None
                break
            parts.append(f"{m} {h:.1f}")
            total += h * left[m]
        if parts is None:
            lines.append(f"estimated cost: unknown ({src})")
        else:
            lines.append(f"estimated cost: {total:,.0f} GPU-hours (per trial: {', '.join(parts)} "
                         f"GPU-h; {src}; see docs/cost.md)")
    return "\n".join(lines)
