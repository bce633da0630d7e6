"""Benchmark of the evaluation stage on the toy world's eval set (a script, not a test).

Prints generation tokens/s, scoring responses/s, the KL time (the exact KL: one batched forward
pass of the policy and one of the SFT model over the sampled ids, harness.kl) and each stage's
share of the evaluation time::

    python benchmarks/bench_eval.py                      # a random toy-sized Phi3, 150 prompts
    python benchmarks/bench_eval.py --model DIR [--sft DIR] [--batch-size 64] [--repeats 3]

Without ``--model``, a randomly initialised Phi3ForCausalLM of the toy SFT model's size
(:class:`harness.toyworld.config.SFTConfig`) over the toy tokenizer: its replies run to
``--max-new-tokens`` because it rarely samples a stop token, so it measures the worst case.
The SFT baseline is built first (not timed in the table) and the policy is evaluated against it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path



def random_toy_model(folder: Path) -> Path:
    import torch
    from transformers import Phi3ForCausalLM

    from harness.toyworld.config import SFTConfig
    from harness.toyworld.sft import phi3_config
    from harness.toyworld.tokenizer import build_tokenizer
    from harness.toyworld.world import vocabulary

    tok = build_tokenizer(vocabulary())
    torch.manual_seed(0)
    Phi3ForCausalLM(phi3_config(SFTConfig(), tok)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="policy folder (default: a random toy-sized Phi3)")
    ap.add_argument("--sft", help="SFT folder for the KL and the baseline (default: --model)")
    ap.add_argument("--n-prompts", type=int, default=None, help="default: the whole eval set")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--backend", default="hf")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = ap.parse_args(argv)
    # after parsing: --help answers without loading torch
    import numpy as np
    import pandas as pd
    import torch

    from harness.evaluate import build_baseline, evaluate_policy
    from harness.generate import GenerationConfig, load_policy
    from harness.judges import build_judge
    from harness.toyworld.config import WorldConfig
    from harness.toyworld.data import build_data

    if args.threads:
        torch.set_num_threads(args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="bench_eval_"))
    model_dir = Path(args.model) if args.model else random_toy_model(tmp / "random_phi3")
    sft_dir = Path(args.sft) if args.sft else model_dir
    policy, tok = load_policy(model_dir)
    sft, sft_tok = (policy, tok) if sft_dir == model_dir else load_policy(sft_dir)

    rows = build_data(WorldConfig()).eval_prompts
    eval_df = pd.DataFrame(rows[: args.n_prompts] if args.n_prompts else rows)
    cfg = GenerationConfig(
        backend=args.backend, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size
    )
    judge_spec = {"name": "toy"}
    judge = build_judge(judge_spec)

    t = time.perf_counter()
    baseline = build_baseline(sft, sft_tok, eval_df, judge_spec, cfg, tmp / "baseline.parquet")
    t_base = time.perf_counter() - t

    print(f"model: {model_dir}  sft: {sft_dir}  device: {next(policy.parameters()).device}")
    print(f"params: {sum(p.numel() for p in policy.parameters()):,}  prompts: {len(eval_df)}  "
          f"batch_size: {cfg.batch_size}  max_new_tokens: {cfg.max_new_tokens}  "
          f"torch threads: {torch.get_num_threads()}")
    print(f"SFT baseline (generate + score replies and chosen, once per study): {t_base:.2f} s")

    lines = []
    for r in range(args.repeats):
        res = evaluate_policy(policy, tok, sft, eval_df, baseline, judge, cfg, f"bench-{r}")
        tm = res.timings
        n_tok = int(res.samples["length"].sum())
        total = sum(tm.values())
        lines.append(
            {
                "repeat": r,
                "gen_tokens": n_tok,
                "gen_tokens_per_s": n_tok / tm["time_generate_s"],
                "judge_responses_per_s": len(eval_df) / tm["time_judge_s"],
                "kl_pass_s": tm["time_kl_s"],
                "kl_tokens_per_s": n_tok / tm["time_kl_s"],
                "total_s": total,
                "share_generate": tm["time_generate_s"] / total,
                "share_judge": tm["time_judge_s"] / total,
                "share_kl": tm["time_kl_s"] / total,
                "mean_length": res.metrics["mean_length"],
            }
        )
    table = pd.DataFrame(lines).set_index("repeat")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.repeats > 1:
        med = table.median()
        print(f"median: {med['gen_tokens_per_s']:.0f} gen tokens/s, "
              f"{med['judge_responses_per_s']:.0f} responses/s scored, "
              f"KL pass {med['kl_pass_s']:.3f} s; shares generate/judge/kl = "
              f"{med['share_generate']:.1%}/{med['share_judge']:.1%}/{med['share_kl']:.1%}")
    np.set_printoptions()


if __name__ == "__main__":
    main()
