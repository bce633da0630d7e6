"""GPU check: does a Phi-3-class model train, generate and run a trial on this GPU as the
harness assumes, at the speed and memory the cost model assumes? (a script, not a test)

    python benchmarks/gpu_check.py                 # on a CUDA GPU: Phi-3-mini shape, bf16
    python benchmarks/gpu_check.py --tiny          # the same code at a tiny size, on CPU
    python benchmarks/gpu_check.py --study sweeps/saferlhf_1gpu.yaml --out check.md

It builds a ``Phi3ForCausalLM`` with random weights (full size: the Phi-3-mini-4k shape, ~3.8B
parameters, :data:`FULL`; ``--tiny``: hidden 128, 2 layers) over a word-level tokenizer with
Phi-3's chat tokens and template and Phi-3-mini's vocabulary size, and measures:

1. **training step**: tokens/s of an AdamW step in the harness's regime (float32 master weights,
   bf16 autocast on a GPU; micro-batch = the study's ``batch_size`` pairs x 2 sequences of
   ``max_length`` tokens), and MFU = c N tokens/s / peak, with c = 6 (8 with gradient
   checkpointing) and the GPU's dense bf16 peak from :data:`BF16_PEAK_TFLOPS` (named in the
   table; ``--peak-tflops`` for other GPUs);
2. **peak memory** of those steps against the cost model's estimate
   (:func:`harness.cost.train_memory`);
3. **generation**: tokens/s of the HF backend and of vLLM (when installed) at the study's
   sampling settings (``generation:`` of ``--study``), through :func:`harness.generate.generate`;
   a random model rarely samples a stop token, so replies run to ``max_new_tokens``: the
   throughput of full-length decoding. Their ratio is the cost model's
   ``GENERATION_EFFICIENCY`` ratio;
4. **one tiny trial end to end** through ``harness.sweep`` (Ray Tune, prepare, train, generate,
   judge, results): a tiny random Phi-3 policy with LoRA adapters (``training.peft``), vLLM
   generation on a GPU (HF on CPU), a tiny random reward model as judge, examples/byo data.

It prints one markdown table (docs/performance.md keeps the measured ones). Numbers from
``--tiny`` on CPU are only a check that the code runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import math
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Phi-3-mini-4k-instruct's shape (its config.json), ~3.8B parameters; the tiny one for CPU.
FULL = dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
            num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096)
# head_dim 64: a size vLLM's attention kernels take (the tiny trial runs under vLLM on a GPU)
TINY = dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=2, max_position_embeddings=4096)
VOCAB = 32064  # Phi-3's
TINY_VOCAB = 512
# Dense bf16 tensor-core peaks (vendor datasheets), TFLOP/s, matched against the device name in
# this order ("H100 PCIe" before "H100").
BF16_PEAK_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("GH200", 989.0),
                    ("B200", 2250.0), ("A100", 312.0), ("L40S", 362.0), ("A10G", 70.0),
                    ("L4", 121.0))


def device_peak(name: str, override: float | None) -> tuple[float | None, str]:
    if override:
        return override * 1e12, f"{override:g} TFLOP/s (--peak-tflops)"
    for key, tflops in BF16_PEAK_TFLOPS:
        if key in name:
            return tflops * 1e12, f"{tflops:g} TFLOP/s dense bf16 ({key} datasheet)"
    return None, "unknown for this device (give --peak-tflops)"


def build_tokenizer(vocab: int):
    """A word-level tokenizer of ``vocab`` entries with Phi-3's chat tokens and template."""
    from harness.toyworld.tokenizer import SPECIAL_TOKENS, build_tokenizer as word_tokenizer

    words = [f"w{i}" for i in range(vocab - len(SPECIAL_TOKENS))]
    return word_tokenizer(words)


def build_model(shape: dict, tok, dtype: torch.dtype, device: str):
    import torch  # in the functions, not at the top: --help answers without loading it
    from transformers import GenerationConfig, Phi3Config, Phi3ForCausalLM

    end = tok.convert_tokens_to_ids("<|end|>")
    config = Phi3Config(vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                        bos_token_id=tok.eos_token_id, eos_token_id=[end, tok.eos_token_id],
                        tie_word_embeddings=False, **shape)
    torch.manual_seed(0)
    with torch.device(device):
        model = Phi3ForCausalLM(config).to(dtype)
    model.generation_config = GenerationConfig(eos_token_id=[end, tok.eos_token_id],
                                               pad_token_id=tok.pad_token_id)
    return model


def sync(device: str) -> None:
    import torch
    if device == "cuda":
        torch.cuda.synchronize()


# ----------------------------------------------------------------------------- 1, 2: training


def measure_training(model, training, device: str, steps: int, peak: float | None) -> dict:
    """tokens/s, MFU and peak memory of AdamW steps in the harness's precision regime."""
    import torch
    n = sum(p.numel() for p in model.parameters())
    batch = training.batch_size * 2  # chosen + rejected
    length = training.max_length
    if training.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6, fused=device == "cuda")
    ids = torch.randint(0, model.config.vocab_size, (batch, length), device=device)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda"
                else contextlib.nullcontext())
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for step in range(steps + 1):  # the first step warms up (allocations, kernels)
        sync(device)
        t0 = time.perf_counter()
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        if step:
            times.append(time.perf_counter() - t0)
    step_s = sorted(times)[len(times) // 2]
    tokens_s = batch * length / step_s
    c = 8 if training.gradient_checkpointing else 6
    out = {"parameters": n, "step_s": step_s, "tokens_s": tokens_s,
           "mfu": c * n * tokens_s / peak if peak else None,
           "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None}
    del opt
    model.zero_grad(set_to_none=True)
    model.gradient_checkpointing_disable()
    model.eval()
    return out


def memory_estimate(shape: dict, vocab: int, training) -> float | None:
    """The cost model's training-memory estimate for this model (config.json in a temp folder)."""
    import json

    from harness.cost import train_memory

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps({**shape, "vocab_size": vocab,
                                                           "tie_word_embeddings": False}))
        est = train_memory(tmp, training)
    return est.total_gib if est else None


# ----------------------------------------------------------------------------- 3: generation


def measure_generation(model, tok, cfg, backend: str, n_prompts: int) -> dict:
    from harness.generate import generate

    prompts = [[{"role": "user", "content": " ".join(f"w{(7 * i + j) % 500}" for j in range(32))}]
               for i in range(n_prompts)]
    cfg = cfg.model_copy(update={"backend": backend})
    t0 = time.perf_counter()
    gens = generate(model, tok, prompts, cfg)
    seconds = time.perf_counter() - t0
    tokens = int(gens.lengths.sum())
    return {"tokens": tokens, "seconds": seconds, "tokens_s": tokens / seconds,
            "finished": float(gens.finished.mean())}


# ----------------------------------------------------------------------------- 4: one trial


def tiny_trial(tmp: Path, backend: str) -> dict:
    """One DPO trial with LoRA through harness.sweep on a tiny random Phi-3 and reward model."""
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForSequenceClassification

    from harness.sweep import main as sweep

    tok = build_tokenizer(TINY_VOCAB)
    policy = build_model(TINY, tok, torch.float32, "cpu")
    policy.save_pretrained(tmp / "policy")
    tok.save_pretrained(tmp / "policy")
    torch.manual_seed(1)
    rm = GPTNeoXForSequenceClassification(GPTNeoXConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_labels=1, pad_token_id=tok.pad_token_id))
    rm.save_pretrained(tmp / "rm")
    tok.save_pretrained(tmp / "rm")
    # The study is benchmarks/gpu_check_trial.yaml; only folders and the backend are set here.
    path = REPO / "benchmarks" / "gpu_check_trial.yaml"
    overrides = [
        f"results_dir={tmp / 'results'}", f"artifacts_dir={tmp / 'artifacts'}",
        f"policy.model={tmp / 'policy'}", f"judge.model={tmp / 'rm'}",
        f"data.train.path={REPO / 'examples' / 'byo' / 'pairs.jsonl'}",
        f"data.eval.path={REPO / 'examples' / 'byo' / 'eval_prompts.jsonl'}",
        f"generation.backend={backend}",
    ]
    if backend == "vllm":
        overrides += ["generation.backend_options={gpu_memory_utilization: 0.3}",
                      "resources.gpus_per_trial=1"]
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = sweep([str(path)] + [a for o in overrides for a in ("--set", o)])
    seconds = time.perf_counter() - t0
    import pandas as pd

    results = tmp / "results" / "gpu_check"
    trials = pd.read_parquet(results / "trials.parquet") if rc == 0 else None
    row = trials.iloc[0] if trials is not None and len(trials) else {}
    kept = row.get("policy_path") if len(row) else None
    adapter_only = bool(kept) and (Path(kept) / "adapter_model.safetensors").exists() \
        and not (Path(kept) / "model.safetensors").exists()
    return {"rc": rc, "status": row.get("status", "no row") if len(row) else "no row",
            "error": row.get("error") if len(row) else None,
            "mean_score": row.get("mean_score") if len(row) else None,
            "adapter_only": adapter_only, "seconds": seconds}


# ----------------------------------------------------------------------------- the table


def fmt(v, spec: str = ".3g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def run(args) -> str:
    import torch
    from harness.config import load_study

    cuda = torch.cuda.is_available() and not args.tiny
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or 'cpu'})"
    peak, peak_src = device_peak(name, args.peak_tflops) if cuda else (None, "n/a on CPU")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    study = load_study(args.study)
    training = study.training.model_copy(update={"peft": None})
    if args.batch_size:
        training = training.model_copy(update={"batch_size": args.batch_size})
    if args.gradient_checkpointing:
        training = training.model_copy(update={"gradient_checkpointing": True})
    gen_cfg = study.generation
    if args.tiny:
        training = training.model_copy(update={"batch_size": 2, "max_length": 64})
        gen_cfg = gen_cfg.model_copy(update={"max_new_tokens": 16, "batch_size": 8})
    shape, vocab = (TINY, TINY_VOCAB) if args.tiny else (FULL, VOCAB)
    tok = build_tokenizer(vocab)
    rows: list[tuple[str, str, str]] = []
    rows.append(("device", name, f"torch {torch.__version__}, bf16 peak {peak_src}"))

    # float32 master weights, as the harness trains (bf16 autocast on a GPU)
    model = build_model(shape, tok, torch.float32, device)
    t = measure_training(model, training, device, args.steps, peak)
    est = memory_estimate(shape, len(tok), training)
    where = (f"micro-batch {training.batch_size} pairs x 2 x {training.max_length} tokens, "
             f"gradient checkpointing {training.gradient_checkpointing}")
    n = t["parameters"]
    rows.append(("parameters", f"{n / 1e9:.2f} B" if n >= 1e8 else f"{n / 1e6:.2f} M",
                 "Phi3ForCausalLM, random weights"))
    rows.append(("training tokens/s", fmt(t["tokens_s"], ",.0f"), where))
    rows.append(("training MFU", fmt(t["mfu"], ".1%") if t["mfu"] is not None else "-",
                 "cost model assumes 35%"))
    rows.append(("peak training memory (GiB)", fmt(t["peak_gib"], ".1f"),
                 f"cost model estimate {fmt(est, '.2f')} GiB"))

    model = model.to(torch.bfloat16) if cuda else model
    n_prompts = 8 if args.tiny else args.prompts
    hf = measure_generation(model, tok, gen_cfg, "hf", n_prompts)
    settings = (f"{n_prompts} prompts, max_new_tokens {gen_cfg.max_new_tokens}, temperature "
                f"{gen_cfg.temperature:g}, top_p {gen_cfg.top_p:g}, batch {gen_cfg.batch_size}")
    rows.append(("HF generation tokens/s", fmt(hf["tokens_s"], ",.0f"), settings))
    vllm_available = cuda and _has("vllm")
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmpdir:
        tmp = Path(tmpdir)
        if vllm_available:
            model.save_pretrained(tmp / "model")
            tok.save_pretrained(tmp / "model")
            del model
            torch.cuda.empty_cache()
            v = measure_generation(str(tmp / "model"), tok, gen_cfg, "vllm", n_prompts)
            rows.append(("vLLM generation tokens/s", fmt(v["tokens_s"], ",.0f"),
                         f"{settings}; {v['tokens_s'] / hf['tokens_s']:.1f}x HF "
                         "(load time included)"))
            shutil.rmtree(tmp / "model", ignore_errors=True)
        else:
            del model
            rows.append(("vLLM generation tokens/s", "-",
                         "not measured: " + ("no CUDA GPU" if not cuda else "vllm not installed")))
        trial = tiny_trial(tmp, "vllm" if vllm_available else "hf")
    backend = "vLLM" if vllm_available else "HF"
    rows.append(("tiny trial end to end", f"{trial['status']} in {trial['seconds']:.0f} s",
                 f"DPO with LoRA, {backend} generation; mean_score {fmt(trial['mean_score'])}; "
                 f"adapter-only policy saved: {trial['adapter_only']}"
                 + (f"; error: {trial['error']}" if trial.get("error") else "")))
    today = datetime.date.today().isoformat()
    lines = [f"GPU check, {today}, {'--tiny (CPU)' if args.tiny else name}", "",
             "| measure | value | conditions |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny model on CPU (checks the code)")
    ap.add_argument("--study", default=str(REPO / "sweeps" / "saferlhf_1gpu.yaml"),
                    help="the study whose training and generation settings are measured")
    ap.add_argument("--batch-size", type=int,
                    help="pairs per micro-batch (default: the study's; lower it on an 80 GB GPU)")
    ap.add_argument("--gradient-checkpointing", action="store_true",
                    help="recompute activations (as training.gradient_checkpointing)")
    ap.add_argument("--steps", type=int, default=5, help="timed training steps (after 1 warm-up)")
    ap.add_argument("--prompts", type=int, default=256, help="prompts to generate for")
    ap.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak, TFLOP/s")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args(argv)
    table = run(args)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
