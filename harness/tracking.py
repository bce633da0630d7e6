"""Experiment tracking: the ``tracking`` section, per trial.

``tracking.report_to`` names transformers' reporting integrations (its
``INTEGRATION_TO_CALLBACK`` registry: ``tensorboard``, ``wandb``, ``mlflow``, ``trackio``, ...).
Every one of them gets the trial's run name, :func:`run_name` = trial id + its hyperparameters
(``<trial_id> <axis>=<value> ... seed=0``, every axis of the trial), through DPOConfig's
``report_to`` and ``run_name``.

``tensorboard`` is handled here rather than by transformers' default (which writes to
``<output_dir>/runs/<date>_<host>``, one folder per trial nobody finds): one logdir per study,
``<results>/<study>/tensorboard/``, one run (sub-folder) per trial, named like the run, holding

- the training curves (transformers' ``TensorBoardCallback`` with our writer: loss, rewards,
  learning rate... per logging step),
- the final metrics (``final/<metric>``: mean_score, win rates, KL, length, reward accuracy...),
- an HParams entry (the trial's hyperparameters against those final metrics), so TensorBoard's
  HParams tab compares the grid.

    tensorboard --logdir results/<study>/tensorboard

Ray Tune's own logger callbacks (and their ``tensorboard --logdir`` hint at a temporary folder)
are switched off by the sweep (``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from harness.schema import TRIAL_ID_COLUMNS

TENSORBOARD = "tensorboard"
TENSORBOARD_DIR = "tensorboard"
# Keys of a trial spec that are not its hyperparameters: its identity columns (the training
# seed aside: a run's seed is worth seeing), and bookkeeping.
NOT_HYPERPARAMETERS = tuple(c for c in TRIAL_ID_COLUMNS if c != "seed") + ("status", "error")
FINAL_PREFIX = "final/"


def integrations() -> list[str]:
    """The reporting integrations transformers knows (its own registry)."""
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    return list(INTEGRATION_TO_CALLBACK)


def check_report_to(values: Any) -> list[tuple[int, str, Any]]:
    """``(index, message, value)`` for every name in ``values`` transformers does not know."""
    if not isinstance(values, list):
        return [(0, "must be a list of tracker names", values)]
    known = integrations()
    bad = []
    for i, v in enumerate(values):
        if v not in known:
            bad.append((i, f"unknown tracker; available: {', '.join(known)}", v))
    return bad


def hyperparameters(spec: dict) -> dict:
    """The trial's hyperparameters: the spec's numeric values that are not identity keys
    (``None`` axes of other methods left out)."""
    return {k: v for k, v in spec.items()
            if k not in NOT_HYPERPARAMETERS and isinstance(v, (int, float))
            and not isinstance(v, bool) and v is not None}


def run_name(spec: dict) -> str:
    """``<trial_id> k=v k=v ...``: readable in TensorBoard, W&B, MLflow alike."""
    parts = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in hyperparameters(spec).items()]
    return " ".join([spec["trial_id"], *parts])


def _folder_name(name: str) -> str:
    """A run name as a folder name (no path separators)."""
    return re.sub(r"[/\\]", "_", name)


def tensorboard_dir(results: str | Path) -> Path:
    return Path(results) / TENSORBOARD_DIR


class TrialTracker:
    """The tracking of one trial: what the trainer gets (:meth:`trl_overrides`,
    :meth:`callbacks`) and the final metrics after evaluation (:meth:`finish`).

    ``report_to`` is the study's list; ``results`` the study's results folder; on ranks other
    than 0 of a distributed trial pass ``main_process=False`` (nothing is written there).
    """

    def __init__(self, report_to: list[str], results: str | Path, spec: dict,
                 main_process: bool = True):
        self.spec = spec
        self.name = run_name(spec)
        self.others = [r for r in report_to if r != TENSORBOARD]
        self.writer = None
        if TENSORBOARD in report_to and main_process:
            from torch.utils.tensorboard import SummaryWriter

            self.logdir = tensorboard_dir(results) / _folder_name(self.name)
            self.writer = SummaryWriter(log_dir=str(self.logdir))

    def trl_overrides(self) -> dict:
        """DPOConfig fields: the other trackers and the run name."""
        return {"report_to": self.others or "none", "run_name": self.name}

    def callbacks(self) -> list:
        """transformers' TensorBoardCallback writing into this trial's run."""
        if self.writer is None:
            return []
        from transformers.integrations import TensorBoardCallback

        # It closes the writer when training ends; the final metrics written after evaluation
        # reopen it (SummaryWriter recreates its file writer), a second event file in the run.
        return [TensorBoardCallback(tb_writer=self.writer)]

    def finish(self, row: dict) -> None:
        """Write the final metrics (``final/<name>``) and the HParams entry, then close."""
        if self.writer is None:
            return
        from torch.utils.tensorboard.summary import hparams

        metrics = {f"{FINAL_PREFIX}{k}": float(v) for k, v in row.items()
                   if k not in NOT_HYPERPARAMETERS and k not in self.spec
                   and isinstance(v, (int, float)) and not isinstance(v, bool)
                   and math.isfinite(float(v))}
        for k, v in metrics.items():
            self.writer.add_scalar(k, v, 0)
        params = {**hyperparameters(self.spec), "method": self.spec["method"],
                  "status": str(row.get("status"))}
        exp, ssi, sei = hparams(params, metrics)
        # What SummaryWriter.add_hparams writes, but into this run (add_hparams makes a sub-run).
        file_writer = self.writer._get_file_writer()
        for summary in (exp, ssi, sei):
            file_writer.add_summary(summary)
        self.writer.close()
        self.writer = None

