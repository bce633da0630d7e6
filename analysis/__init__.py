"""Analysis of a finished (or running) study: ``results/<study>/`` -> statistics, figures, report.

Pure functions over the results tables (``harness.schema``'s constants and study.json's
``methods`` block); never imports torch, transformers, ray or the harness's registries. Start
with ``analysis.load.load_study`` and ``analysis.scores.config_scores`` (the shared hierarchical
bootstrap over training seeds and prompts), or ``analysis.analyze.analyze`` for every table at
once; ``python -m analysis.report results/<study> [more ...]`` writes the recommendation report
(several folders: aggregated as tasks). Formulas and sources: docs/analysis.md.
"""
