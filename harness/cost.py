"""The ``--dry-run`` plan: the trial table and an estimated cost, without training anything.

Toy world: trial time is *measured* — the median ``time_total_s`` of this study's recorded
trials per method when there are any, else the median of every toy-world trial recorded under
``results_dir``, else the calibration below (from ``benchmarks/bench_train.py`` on 2 CPU cores).

Real models: a tokens x parameters cost model in GPU-hours (docs/cost.md derives and checks it).
Per trial, with N the policy's parameters, L = max_length / 2 tokens per sequence (an assumption:
real pairs are shorter than the limit), T = max_new_tokens, n_eval the eval prompts times
generation.samples_per_prompt (replies per trial) and G the trial's GPUs::

    train     = c * N * n_pairs * 2 * L * epochs       c = 6 (forward + backward), 8 with
                                                       gradient checkpointing (one more forward);
                                                       LoRA: 4 and 6 (no weight gradients of N)
    heldout   = 2 * N * n_heldout * 2 * L              every worker scores every held-out pair
    kl        = 2 * 2 * N * n_eval * (L + T)           one SFT and one policy forward pass
                                                       (the exact KL, harness.kl)
    judge     = 2 * N_judge * n_eval * (L + T)
    generate  = 2 * N * n_eval * (L + T), at GENERATION_EFFICIENCY of peak (decoding is
                memory-bound), the rest at MFU of PEAK_FLOPS
    GPU-hours = [ train_s  +  G * (heldout_s + kl_s + judge_s + generate_s + TRIAL_OVERHEAD_S) ] / 3600

Training is spread over the G GPUs; evaluation runs on rank 0 while the trial holds all G;
``TRIAL_OVERHEAD_S`` covers loading, sharding, saving and reloading a 14B policy and scales with
N (at least ``MIN_TRIAL_OVERHEAD_S``). ``MFU = 0.35``,
generation efficiency 0.05 (HF backend) or 0.2 (vLLM), ``PEAK_FLOPS`` an H100's dense bf16 peak.
Preparation runs once per study on one GPU: the reference pass (2 N per token over every pair)
when a method needs it, and the SFT baseline (generate, judge its replies and the chosen ones).
Parameter counts come from ``KNOWN_PARAMETERS`` (published counts), else the model's config.json
(a local folder, or ``KNOWN_CONFIGS`` for the models the shipped studies name);
row counts from the study's prepared data once ``--prepare-only`` ran, else ``max_rows``, else
``KNOWN_ROWS`` (rows before filtering: an upper bound).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.objectives import EPOCHS

PEAK_FLOPS = 989e12  # H100 SXM dense bf16
MFU = 0.35
GENERATION_EFFICIENCY = {"hf": 0.05, "vllm": 0.2}
# Per real trial of a 14B policy: load the checkpoint on every worker, shard it, save and reload
# the full policy; scaled by N / 14e9 for other sizes, with a floor.
TRIAL_OVERHEAD_S = 600.0
OVERHEAD_REFERENCE_PARAMETERS = 14.0e9
MIN_TRIAL_OVERHEAD_S = 60.0
KNOWN_PARAMETERS = {
    "microsoft/Phi-3-medium-4k-instruct": 14.0e9,
    "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5": 1.4e9,
    "OpenAssistant/reward-model-deberta-v3-large-v2": 0.435e9,
}
# config.json fields of models named by the shipped studies, for sizes, LoRA counts and memory
# when the model is not on disk (the models' published configs).
KNOWN_CONFIGS = {
    "microsoft/Phi-3-medium-4k-instruct": dict(
        hidden_size=5120, intermediate_size=17920, num_hidden_layers=40, num_attention_heads=40,
        num_key_value_heads=10, vocab_size=32064, tie_word_embeddings=False),
    "microsoft/Phi-3-mini-4k-instruct": dict(
        hidden_size=3072, intermediate_size=8192, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=32, vocab_size=32064, tie_word_embeddings=False),
    "Qwen/Qwen2.5-0.5B-Instruct": dict(
        hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "Qwen/Qwen2.5-1.5B-Instruct": dict(
        hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
        num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "Qwen/Qwen2.5-3B-Instruct": dict(
        hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
        num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
}
# Bytes per parameter while training (AdamW, mixed precision: float32 weights, gradients and two
# moments) and of a frozen bf16 LoRA base; bytes of saved activations per token, layer and
# hidden unit in bf16 without recomputation (Korthikanti et al. 2022, "Reducing Activation
# Recomputation in Large Transformer Models": 34 s b h per layer, attention scores left out as
# SDPA/flash attention never store them), and with activation checkpointing (the layer inputs).
TRAIN_BYTES_PER_PARAMETER = 16
FROZEN_BYTES_PER_PARAMETER = 2
ACTIVATION_BYTES = 34
CHECKPOINTED_ACTIVATION_BYTES = 2
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
        passes = statistics.mean(study.axes(m)[EPOCHS.name])
        per[m] = (TOY_TRIAL_OVERHEAD_S + pairs * passes * TOY_S_PER_PAIR_EPOCH
                  + w.n_eval_prompts * study.generation.samples_per_prompt
                  * TOY_S_PER_EVAL_PROMPT)
    return per, "calibration constants (no recorded trial yet)"


def model_config(name: str) -> dict | None:
    """config.json of a local model folder, else :data:`KNOWN_CONFIGS`, else None."""
    cfg = Path(name) / "config.json"
    if cfg.exists():
        c = json.loads(cfg.read_text())
        return c.get("text_config", c) if "hidden_size" not in c else c
    return KNOWN_CONFIGS.get(name)


def _parameters(name: str) -> float | None:
    if name in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[name]
    c = model_config(name)
    if c is None:
        return None
    h, n_layers, vocab = c.get("hidden_size"), c.get("num_hidden_layers"), c.get("vocab_size")
    inter = c.get("intermediate_size", 4 * (h or 0))
    if not (h and n_layers and vocab):
        return None
    kv = c.get("num_key_value_heads", c.get("num_attention_heads", 1))
    heads = c.get("num_attention_heads", 1)
    attn = h * h * 2 + 2 * h * h * kv / heads
    embeddings = (1 if c.get("tie_word_embeddings") else 2) * vocab * h
    return float(embeddings + n_layers * (attn + 3 * h * inter))


def trial_overhead_s(n_policy: float) -> float:
    """Fixed seconds per trial (load, shard, save, reload), scaled from a 14B policy's."""
    return max(MIN_TRIAL_OVERHEAD_S, TRIAL_OVERHEAD_S * n_policy / OVERHEAD_REFERENCE_PARAMETERS)


def train_flops_factor(training) -> int:
    """FLOPs per parameter per trained token: 2 forward + 4 backward (2 for the activations'
    gradients, 2 for the weights'), + 2 when activations are recomputed. A LoRA base gets no
    weight gradients (the adapters' are negligible): 4, or 6 with recomputation."""
    c = 6 if training.peft is None else 4
    return c + 2 if training.gradient_checkpointing else c


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak GPU memory of one training worker, GiB: parameter states and saved activations."""

    states_gib: float
    activations_gib: float

    @property
    def total_gib(self) -> float:
        return self.states_gib + self.activations_gib


def train_memory(name: str, training, workers: int = 1, sharded: bool = False) -> MemoryEstimate | None:
    """Training memory of the policy ``name`` under ``training`` (docs/cost.md, "Memory"):
    states = 16 bytes per trained parameter (2 per frozen LoRA base parameter), divided by the
    workers when sharded (FSDP/ZeRO-3); activations = bytes x hidden x layers x tokens of one
    micro-batch (batch_size pairs, chosen + rejected, padded to max_length)."""
    from harness.lora import trainable_parameters

    n, c = _parameters(name), model_config(name)
    if n is None or c is None:
        return None
    if training.peft is None:
        states = TRAIN_BYTES_PER_PARAMETER * n
    else:
        states = (FROZEN_BYTES_PER_PARAMETER * n
                  + TRAIN_BYTES_PER_PARAMETER * trainable_parameters(c, training.peft))
    if sharded:
        states /= workers
    tokens = training.batch_size * 2 * training.max_length
    per = CHECKPOINTED_ACTIVATION_BYTES if training.gradient_checkpointing else ACTIVATION_BYTES
    activations = per * c["hidden_size"] * c["num_hidden_layers"] * tokens
    return MemoryEstimate(states / 2**30, activations / 2**30)


def _prepared_rows(study) -> dict[str, int]:
    """Exact row counts (after filtering) from this study's prepared data, if it was prepared."""
    from harness.artifacts import MANIFEST, study_folder

    manifest = study_folder(study.artifacts_dir, study.study) / MANIFEST
    if not manifest.exists():
        return {}
    import pyarrow.parquet as pq

    paths = json.loads(manifest.read_text())
    return {
        key: pq.ParquetFile(paths[key]).metadata.num_rows
        for key in ("train_pairs", "heldout_pairs", "eval_prompts")
        if paths.get(key) and Path(paths[key]).exists()
    }


def _local_rows(path: str | None) -> int | None:
    """Rows of local data files (JSON lines, parquet, CSV), or None when ``path`` names none."""
    from harness.data.source import local_files

    files = local_files(path) if path else []
    if not files:
        return None
    n = 0
    for f in files:
        if f.endswith(".parquet"):
            import pyarrow.parquet as pq

            n += pq.ParquetFile(f).metadata.num_rows
        elif f.endswith((".jsonl", ".csv")):
            with open(f, encoding="utf-8") as fh:
                lines = sum(1 for line in fh if line.strip())
            n += lines - (1 if f.endswith(".csv") else 0)
        else:
            return None
    return n


def _rows(spec: dict) -> tuple[int | None, str]:
    local = _local_rows(spec.get("path"))
    if spec.get("max_rows"):
        rows = int(spec["max_rows"]) if local is None else min(local, int(spec["max_rows"]))
        return rows, "max_rows"
    if local is not None:
        return local, "rows of the local files"
    path = spec.get("path")
    if spec.get("revision"):
        path = f"{path}@{spec['revision']}"
    key = (path, spec.get("data_dir") or spec.get("name"), spec.get("split", "train"))
    if key in KNOWN_ROWS:
        return KNOWN_ROWS[key], "published size before filtering"
    return None, "unknown offline"


def _judge_parameters(judge: dict) -> float:
    """Parameters of a model-based judge's model (0 for the toy judge, or when unknown)."""
    from harness.judges import parse_judge

    _, options = parse_judge(judge)
    model = getattr(options, "model", None)
    return (_parameters(model) or 0.0) if model else 0.0


def _sizes(study) -> tuple[dict | None, str]:
    """``{n_policy, n_judge, n_pairs, n_heldout, n_eval}`` and where the row counts come from."""
    prepared = _prepared_rows(study)
    if "train_pairs" in prepared and "eval_prompts" in prepared:
        n_pairs, n_eval = prepared["train_pairs"], prepared["eval_prompts"]
        n_heldout = prepared.get("heldout_pairs", 0)
        src = "rows of the prepared data"
    else:
        n_pairs, src_pairs = _rows(study.data.train)
        n_eval, src_eval = _rows(study.data.eval)
        n_heldout = study.data.heldout_pairs
        src = f"pairs: {src_pairs}, eval: {src_eval}"
    n_policy = _parameters(study.policy.model)
    if not (n_policy and n_pairs and n_eval):
        return None, f"parameters or sizes unknown offline ({src})"
    return dict(n_policy=n_policy, n_judge=_judge_parameters(study.judge), n_pairs=n_pairs,
                n_heldout=n_heldout, n_eval=n_eval), src


@dataclass(frozen=True)
class RealCost:
    """One trial: GPU-seconds of training (shared by the trial's ``gpus``), and wall seconds of
    evaluation and fixed overhead (one GPU works while all ``gpus`` are held)."""

    train_gpu_s: float
    eval_s: float
    overhead_s: float
    gpus: int

    @property
    def gpu_hours(self) -> float:
        return (self.train_gpu_s + self.gpus * (self.eval_s + self.overhead_s)) / 3600

    @property
    def wall_hours(self) -> float:
        return (self.train_gpu_s / self.gpus + self.eval_s + self.overhead_s) / 3600


def _generation_s(n_policy: float, tokens: float, backend: str) -> float:
    eff = GENERATION_EFFICIENCY.get(backend, GENERATION_EFFICIENCY["hf"])
    return 2 * n_policy * tokens / (PEAK_FLOPS * eff)


def real_trial_cost(study, method: str) -> tuple[RealCost | None, str]:
    """Estimated cost of one ``method`` trial (mean epochs of its grid); the module doc's model."""
    sizes, src = _sizes(study)
    if sizes is None:
        return None, src
    n, length = sizes["n_policy"], study.training.max_length / 2
    passes = statistics.mean(study.axes(method)[EPOCHS.name])
    c = train_flops_factor(study.training)
    gen_tokens = (sizes["n_eval"] * study.generation.samples_per_prompt
                  * (length + study.generation.max_new_tokens))
    train_gpu_s = c * n * sizes["n_pairs"] * 2 * length * passes / (PEAK_FLOPS * MFU)
    forward_flops = (2 * n * sizes["n_heldout"] * 2 * length  # held-out reward accuracy
                     + 2 * 2 * n * gen_tokens                 # the KL's SFT + policy passes
                     + 2 * sizes["n_judge"] * gen_tokens)     # the judge
    eval_s = forward_flops / (PEAK_FLOPS * MFU) + _generation_s(n, gen_tokens,
                                                                study.generation.backend)
    r = study.resources
    gpus = max(int(round(r.gpus_per_trial * r.workers_per_trial)), 1)
    return RealCost(train_gpu_s, eval_s, trial_overhead_s(n), gpus), f"cost model ({src})"


def real_trial_gpu_hours(study, method: str) -> tuple[float | None, str]:
    """GPU-hours of one ``method`` trial, or None and the reason."""
    cost, src = real_trial_cost(study, method)
    return (cost.gpu_hours if cost else None), src


def prepare_gpu_hours(study) -> float | None:
    """GPU-hours of the once-per-study preparation on one GPU: the reference pass when a method
    needs it, and the SFT baseline (generation; judge of its replies and of the chosen ones)."""
    from harness.objectives import OBJECTIVES

    sizes, _ = _sizes(study)
    if sizes is None:
        return None
    n, length = sizes["n_policy"], study.training.max_length / 2
    gen_tokens = (sizes["n_eval"] * study.generation.samples_per_prompt
                  * (length + study.generation.max_new_tokens))
    flops = 2 * sizes["n_judge"] * 2 * gen_tokens
    if any(OBJECTIVES[m].needs_reference for m in study.methods):
        flops += 2 * n * (sizes["n_pairs"] + sizes["n_heldout"]) * 2 * length
    seconds = flops / (PEAK_FLOPS * MFU) + _generation_s(n, gen_tokens, study.generation.backend)
    return seconds / 3600


def _hours(h: float) -> str:
    return f"{h:.1f}" if h >= 1 else f"{h:.2f}"


def trial_seconds(study) -> dict[str, float]:
    """Estimated wall seconds of one trial per method, the numbers the dry run prints (the
    sweep's first ETA): toy world :func:`toy_trial_seconds`, real models the cost model's wall
    time; methods whose cost is unknown offline are left out."""
    if study.toyworld is not None:
        return toy_trial_seconds(study)[0]
    out = {}
    for m in study.methods:
        cost, _ = real_trial_cost(study, m)
        if cost is not None:
            out[m] = cost.wall_hours * 3600
    return out


def _real_cost_lines(study, left: Counter) -> list[str]:
    costs = {m: real_trial_cost(study, m) for m in study.methods}
    unknown = [src for cost, src in costs.values() if cost is None]
    if unknown:
        return [f"estimated cost: unknown ({unknown[0]})"]
    total = sum(costs[m][0].gpu_hours * left[m] for m in study.methods)
    gpus = next(iter(costs.values()))[0].gpus
    per = ", ".join(f"{m} {_hours(c.gpu_hours)} GPU-h ({_hours(c.wall_hours)} h wall)"
                    for m, (c, _) in costs.items())
    src = next(iter(costs.values()))[1]
    r = study.resources
    memory = train_memory(study.policy.model, study.training, r.workers_per_trial,
                          sharded=r.distributed != "none")
    mode = "LoRA" if study.training.peft is not None else "full fine-tune"
    memory_line = (f"  training memory per GPU ({mode}): ~{memory.total_gib:.0f} GiB "
                   f"(states {memory.states_gib:.1f} + activations {memory.activations_gib:.1f})"
                   if memory else f"  training memory: unknown ({mode}; no config.json offline)")
    return [
        f"estimated cost: {f'{total:,.0f}' if total >= 10 else _hours(total)} GPU-hours for "
        f"{sum(left.values())} trials, {gpus} GPU(s) "
        f"per trial; per trial: {per}",
        f"  + preparation, once, on one GPU: {prepare_gpu_hours(study):.1f} GPU-hours",
        memory_line,
        f"  {src}; H100 bf16 peak at MFU {MFU}; see docs/cost.md",
    ]


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
    if study.toyworld is None:
        return "\n".join(lines + _real_cost_lines(study, left))
    per, src = toy_trial_seconds(study)
    total = sum(per[m] * left[m] for m in study.methods)
    r = study.resources
    lines.append(f"estimated cost: {total / 3600:.3f} trial-hours ({total / 60:.1f} trial-minutes; "
                 f"per trial: " + ", ".join(f"{m} {per[m]:.0f} s" for m in study.methods)
                 + f"; from {src}); CPU cores per trial: {r.cpus_per_trial:g}")
    return "\n".join(lines)
