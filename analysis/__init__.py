"""Analysis of a finished (or running) study: ``results/<study>/`` -> statistics, figures, report.

Pure functions over the tables in ``harness.schema``; never imports torch, transformers or ray.
Start with ``analysis.load.load_study`` and ``analysis.scores.config_scores`` (the shared prompt
bootstrap), then the statistic modules; ``python -m analysis.report results/<study>`` writes the
recommendation report. Formulas and sources: docs/analysis.md.
"""
