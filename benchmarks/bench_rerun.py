"""A finished study re-run is a no-op in seconds: no Ray, no preparation, no re-hash of the
policy weights.

    python benchmarks/bench_rerun.py [--gb 3] [--keep]

Builds, under a fresh folder in /tmp (deleted at the end unless ``--keep``):

- a small toy world (its data and SFT model);
- a *stand-in policy folder*: that SFT model plus a ~3 GB shard of random bytes in safetensors
  format (``stand-in-padding.safetensors``; ``from_pretrained`` loads only
  ``model.safetensors``), so preparing the study has to hash ~3 GB of weights, as a real
  policy folder would make it (Phi-3 Medium: ~28 GB);
- a two-trial SimPO study over them (the world's data read as local preference files).

Then it runs ``python -m harness.sweep`` twice and prints both wall times. The first run hashes
the stand-in folder (its digest is remembered by file sizes and modification times), starts
Ray, prepares and trains; the second finds every trial recorded and the study prepared, and
only rewrites the tables. Target: second run < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def write_padding_shard(path: Path, n_bytes: int) -> None:
    """A valid safetensors file holding one uint8 tensor of ``n_bytes`` random bytes."""
    header = json.dumps({"padding": {"dtype": "U8", "shape": [n_bytes],
                                     "data_offsets": [0, n_bytes]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(header)) + header)
        chunk = 64 << 20
        left = n_bytes
        while left:
            n = min(chunk, left)
            fh.write(os.urandom(n))
            left -= n


def run(args: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.sweep", *args], capture_output=True,
                          text=True, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"sweep failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds, proc.stdout


def main() -> int:
    from harness.cli import plain

    ap = argparse.ArgumentParser(description=plain(__doc__),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gb", type=float, default=3.0, help="size of the stand-in weights (GB)")
    ap.add_argument("--keep", action="store_true", help="keep the /tmp folder")
    args = ap.parse_args()

    from harness.toyworld.build import build_toyworld
    from harness.toyworld.config import ToyWorldConfig

    template = Path(__file__).with_name("bench_rerun.yaml")
    root = Path(tempfile.mkdtemp(prefix="bench-rerun-", dir="/tmp"))
    try:
        t0 = time.perf_counter()
        world_cfg = ToyWorldConfig.model_validate(yaml.safe_load(template.read_text())["toyworld"])
        world, _ = build_toyworld(world_cfg, root / "artifacts")
        policy = root / "stand-in-policy"
        shutil.copytree(world / "sft", policy)
        write_padding_shard(policy / "stand-in-padding.safetensors", int(args.gb * 1e9))
        size = sum(p.stat().st_size for p in policy.iterdir()) / 1e9
        print(f"set-up: toy world + {size:.2f} GB stand-in policy folder in "
              f"{time.perf_counter() - t0:.1f} s ({root})", flush=True)

        study = [str(template)] + [a for o in (
            f"results_dir={root / 'results'}", f"artifacts_dir={root / 'artifacts'}",
            f"policy.model={policy}", f"data.train.path={world / 'train_pairs.jsonl'}",
            f"data.eval.path={world / 'eval_prompts.jsonl'}") for a in ("--set", o)]
        env = {**os.environ, "PO_HARNESS_RAY_TMP": str(root)}
        first, _ = run(study, env)
        print(f"first run (hash {size:.2f} GB, start Ray, prepare, 2 trials): {first:.1f} s",
              flush=True)
        second, out = run(study, env)
        prepared = "prepare:" in out
        print(f"second run (finished study): {second:.1f} s  "
              f"[{'ran preparation' if prepared else 'no preparation, no Ray'}; target < 10 s]")
        print(out.splitlines()[0])
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
