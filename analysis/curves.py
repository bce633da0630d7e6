"""Training curves of a study's trials, read from its TensorBoard logs.

The harness writes one TensorBoard run per trial under ``results/<study>/tensorboard/``
(``tracking.report_to`` includes ``tensorboard``, the default), named ``<trial_id> <axis>=<value>
...``; transformers' ``TensorBoardCallback`` logs the trainer's metrics there every
``training.logging_steps`` optimiser steps as ``train/<name>`` (TRL's preference trainer:
``train/loss``, ``train/rewards/margins``, ``train/rewards/accuracies``, ``train/learning_rate``
...), and the harness adds the final metrics as ``final/<name>``. The event files are read with
TensorBoard's own ``EventAccumulator`` (TensorBoard is a dependency of the package).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TENSORBOARD_DIR = "tensorboard"  # harness.tracking.TENSORBOARD_DIR (a plain name, not imported)
LOSS = "train/loss"
COLUMNS = ("trial_id", "run", "tag", "step", "value")


def tensorboard_runs(results_dir: str | Path) -> dict[str, Path]:
    """trial_id -> its run folder (the first word of the run's name); {} without logs."""
    root = Path(results_dir) / TENSORBOARD_DIR
    if not root.is_dir():
        return {}
    runs = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        if any(d.glob("events.out.tfevents*")):
            runs.setdefault(d.name.split(" ")[0], d)
    return runs


def training_curves(results_dir: str | Path, trial_ids=None,
                    tags=(LOSS,)) -> pd.DataFrame:
    """Scalars ``tags`` (None: every ``train/`` tag) of the runs of ``trial_ids`` (None: all).

    Columns: trial_id, run (folder name), tag, step (optimiser step), value; one row per
    logged point, sorted by trial, tag and step. Empty (same columns) without TensorBoard logs.
    """
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS, EventAccumulator)

    runs = tensorboard_runs(results_dir)
    if trial_ids is not None:
        wanted = set(trial_ids)
        runs = {t: d for t, d in runs.items() if t in wanted}
    rows = []
    for trial_id, d in runs.items():
        acc = EventAccumulator(str(d), size_guidance={SCALARS: 0})  # 0: keep every point
        acc.Reload()
        have = acc.Tags().get(SCALARS, [])
        use = [t for t in have if t.startswith("train/")] if tags is None else \
            [t for t in tags if t in have]
        for tag in use:
            for e in acc.Scalars(tag):
                rows.append((trial_id, d.name, tag, int(e.step), float(e.value)))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return out.sort_values(["trial_id", "tag", "step"], kind="stable").reset_index(drop=True)
