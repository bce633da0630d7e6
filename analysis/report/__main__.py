"""``python -m analysis.report results/<study> [results/<other> ...] [--out DIR] [--n-boot N]
[--seed S] [--budget B]``: one folder gives its report; several give their aggregate."""

from __future__ import annotations

import argparse
import sys

from harness.errors import UserError

MIN_N_BOOT = 200  # fewer replicates leave a 95% percentile interval on ~5 draws per tail


class _Parser(argparse.ArgumentParser):
    """argparse's documented ``error`` hook raises instead of printing the usage, so a bad
    argument takes the harness's one error path: one ``error:`` line, exit 2."""

    def error(self, message):
        raise UserError(f"{message} (see --help)")


def _at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value
    return parse


def main(argv=None) -> int:
    """The CLI, through the harness's one error path: a bad results folder (or a file that
    cannot be written) is one ``error:`` line, exit 2; ``-v`` shows the traceback."""
    from harness.cli import run

    return run(_main, argv)


def _positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of hours, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of hours, got {text}")
    return value


def _main(argv) -> int:
    ap = _Parser(
        prog="python -m analysis.report",
        description="Write the recommendation report of a study: report.md, a self-contained "
                    "report.html and figures/*.png (formulas: docs/analysis.md). Several "
                    "folders: the studies aggregated as tasks.")
    ap.add_argument("results_dirs", nargs="+", metavar="results_dir",
                    help="a results/<study>/ folder (several: aggregate them)")
    ap.add_argument("--out", default=None,
                    help="output folder (default: RESULTS_DIR/report; several folders: "
                         "<parent>/aggregate_<names>/report)")
    ap.add_argument("--n-boot", type=_at_least(MIN_N_BOOT), default=1000,
                    help=f"bootstrap replicates (at least {MIN_N_BOOT}; default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    ap.add_argument("--budget", type=_at_least(1), default=3,
                    help="your budget in trials (at least 1; default 3): the verdict ranks the "
                         "methods by their expected best of this many trials")
    ap.add_argument("--budget-hours", type=_positive_hours, default=None, metavar="H",
                    help="compute budget (GPU-hours, or wall-clock hours when no trial used a "
                         "GPU) of the compute-budget section (default: --budget trials at the "
                         "study's median trial cost)")
    ap.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")
    args = ap.parse_args(argv)
    import matplotlib  # after the arguments: --help and a bad argument answer at once

    matplotlib.use("Agg")  # a report needs no display
    from analysis.report import build_report

    dirs = args.results_dirs
    out = build_report(dirs[0] if len(dirs) == 1 else dirs, args.out, n_boot=args.n_boot,
                       seed=args.seed, decision_budget=args.budget,
                       budget_hours=args.budget_hours)
    print(f"wrote {out / 'report.md'}, {out / 'report.html'} and {out / 'figures'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
