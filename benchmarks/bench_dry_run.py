"""``--dry-run`` of very large grids: load + expand + plan, per grid size.

    python benchmarks/bench_dry_run.py [--sizes 10000 100000 1000000]

Each size is one method (DPO) with ``sqrt(n)`` betas x ``sqrt(n)`` seeds over
tests/fixtures/configs/toy_study.yaml, run in-process through ``harness.sweep.main`` (output
discarded). The round-robin over methods used to be quadratic (> 2 min at 10^6 trials).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import time
from pathlib import Path

TOY = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "configs" / "toy_study.yaml"


def main() -> int:
    from harness.cli import plain

    ap = argparse.ArgumentParser(description=plain(__doc__),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = ap.parse_args()
    from harness.objectives import get_objective
    from harness.sweep import main as sweep

    axis = get_objective("dpo").axes[0].name  # DPO's own axis, the one the grid spans

    for n in args.sizes:
        side = int(math.isqrt(n))
        values = ", ".join(f"{0.01 + i * 1e-4:.4f}" for i in range(side))
        seeds = ", ".join(str(i) for i in range(side))
        argv = [str(TOY), "--dry-run", "--set", f"methods={{dpo: {{{axis}: [{values}]}}}}",
                "--set", f"grid.seed=[{seeds}]", "--set", "grid.learning_rate=[3e-4]"]
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = sweep(argv)
        seconds = time.perf_counter() - t0
        note = "" if code == 0 else f"  (exit {code}: {err.getvalue().strip()[:120]})"
        print(f"{side * side:>9} trials: {seconds:6.1f} s{note}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
