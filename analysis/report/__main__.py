"""``python -m analysis.report results/<study> [results/<other> ...] [--out DIR] [--n-boot N]
[--seed S] [--budget B]``: one folder gives its report; several give their aggregate."""

from __future__ import annotations

import argparse
import sys

import matplotlib

matplotlib.use("Agg")  # a report needs no display

from analysis.report import build_report  # noqa: E402


def main(argv=None) -> int:
    """The CLI, through the harness's one error path: a bad results folder (or a file that
    cannot be written) is one ``error:`` line, exit 2; ``-v`` shows the traceback."""
    from harness.cli import run

    return run(_main, argv)


def _main(argv) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m analysis.report",
        description="Write the recommendation report of a study: report.md, a self-contained "
                    "report.html and figures/*.png (formulas: docs/analysis.md). Several "
                    "folders: the studies aggregated as tasks.")
    ap.add_argument("results_dirs", nargs="+", metavar="results_dir",
                    help="a results/<study>/ folder (several: aggregate them)")
    ap.add_argument("--out", default=None,
                    help="output folder (default: RESULTS_DIR/report; several folders: "
                         "<parent>/aggregate_<names>/report)")
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ap.add_argument("--budget", type=int, default=3,
                    help="budget (trials) at which methods are ranked for the recommendation")
    ap.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")
    args = ap.parse_args(argv)
    dirs = args.results_dirs
    out = build_report(dirs[0] if len(dirs) == 1 else dirs, args.out, n_boot=args.n_boot,
                       seed=args.seed, decision_budget=args.budget)
    print(f"wrote {out / 'report.md'}, {out / 'report.html'} and {out / 'figures'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
