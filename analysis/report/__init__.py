"""The recommendation report: ``python -m analysis.report results/<study> [more...] [--out DIR]``.

One folder: ``report.md``, a self-contained ``report.html`` (figures embedded as base64 PNG) and
the figures as PNG under ``figures/``, all through atomic writes. Several folders: the same
files for the studies aggregated as tasks (``analysis.aggregate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

# The package is imported by ``python -m analysis.report`` before its argument parser runs:
# the heavy modules (pandas, matplotlib, scipy) load inside the functions, so --help and a bad
# argument answer at once.
if TYPE_CHECKING:
    from analysis.analyze import StudyAnalysis
    from analysis.report.figures import ReportFigure

FIG_DIR = "figures"


def _write(out: Path, figures: list[ReportFigure], md_text: str, title: str) -> Path:
    from analysis.report.html import to_html
    from harness.io import atomic_path, write_text_atomic

    (out / FIG_DIR).mkdir(parents=True, exist_ok=True)
    for f in figures:
        with atomic_path(out / FIG_DIR / f"{f.name}.png", suffix=".png") as tmp:
            tmp.write_bytes(f.png)
    current = {f"{f.name}.png" for f in figures}
    for stale in (out / FIG_DIR).glob("fig*.png"):  # from an earlier report of another shape
        if stale.name not in current:
            stale.unlink()
    write_text_atomic(out / "report.md", md_text)
    write_text_atomic(out / "report.html", to_html(md_text, figures, title))
    return out


def write_report(a: StudyAnalysis, out: str | Path) -> Path:
    """Render ``a`` into ``out`` (report.md, report.html, figures/*.png); return ``out``."""
    from analysis.report.document import render_markdown
    from analysis.report.figures import report_figures

    figures = report_figures(a)
    md_text = render_markdown(a, figures, FIG_DIR)
    return _write(Path(out), figures, md_text, f"Report: {a.study.name}")


def write_aggregate_report(agg, out: str | Path) -> Path:
    """Render an ``analysis.aggregate.Aggregate`` into ``out``; return ``out``."""
    from analysis.report.several import aggregate_figures, render_aggregate
    from analysis.style import method_palette

    labels = {}
    for s in agg.studies:
        labels.update({m: lab for m, lab in s.labels.items() if m not in labels})
    palette = method_palette(list(dict.fromkeys(m for s in agg.studies for m in s.methods)),
                             labels)
    figures = aggregate_figures(agg, palette)
    md_text = render_aggregate(agg, figures, palette, FIG_DIR)
    return _write(Path(out), figures, md_text,
                  "Report: " + ", ".join(agg.options["names"]))


def default_out(results_dirs) -> Path:
    """One folder: ``<it>/report``; several: ``<first's parent>/aggregate_<names>/report``."""
    dirs = [Path(d) for d in results_dirs]
    if len(dirs) == 1:
        return dirs[0] / "report"
    return dirs[0].parent / ("aggregate_" + "+".join(d.name for d in dirs)) / "report"


def build_report(results_dir, out: str | Path | None = None, n_boot: int = 1000,
                 seed: int = 0, decision_budget: int = 3, evaluators=None,
                 budget_hours: float | None = None) -> Path:
    """Load ``results_dir`` (a folder, or a list of folders to aggregate as tasks), analyse it
    and write the report (default output: ``default_out``; ``budget_hours``: the compute
    budget of one study's compute section)."""
    dirs = [results_dir] if isinstance(results_dir, (str, Path)) else list(results_dir)
    out = default_out(dirs) if out is None else Path(out)
    from analysis.analyze import analyze
    from analysis.load import load_study

    if len(dirs) == 1:
        study = load_study(dirs[0])
        a = analyze(study, n_boot=n_boot, seed=seed, decision_budget=decision_budget,
                    evaluators=evaluators, budget_hours=budget_hours)
        return write_report(a, out)
    from analysis.aggregate import aggregate

    studies = [load_study(d) for d in dirs]
    agg = aggregate(studies, n_boot=n_boot, seed=seed, budget=decision_budget)
    return write_aggregate_report(agg, out)
