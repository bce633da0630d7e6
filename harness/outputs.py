"""What a trial leaves behind besides its results row: its tracking run and its kept policy.

The sweep puts :func:`study_outputs` into every trial's context; the trial builds
:class:`TrialOutputs` from it and calls it at two points:

- before training, :meth:`TrialOutputs.train_kwargs` adds the tracking settings to
  :func:`harness.train.train_policy` (DPOConfig's ``report_to``/``run_name``, the TensorBoard
  callback: :mod:`harness.tracking`);
- after evaluation, :meth:`TrialOutputs.finish` keeps the policy if ``save.policies`` says so
  (:mod:`harness.keep`) and writes the final metrics to the tracking run.

Without a context (a trial run on its own, e.g. in a test) both do nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def study_outputs(study) -> dict:
    """The JSON-able part of the study a trial needs for its outputs."""
    return {
        "results": str(study.results_path),
        "save": study.save.model_dump(mode="json"),
        "tracking": study.tracking.model_dump(mode="json"),
    }


class TrialOutputs:
    def __init__(self, outputs: dict | None, spec: dict, main_process: bool = True):
        from harness.tracking import TrialTracker

        self.outputs = outputs
        self.spec = spec
        self.main_process = main_process
        self.tracker = None
        if outputs is not None:
            self.tracker = TrialTracker(outputs["tracking"]["report_to"], outputs["results"],
                                        spec, main_process=main_process)

    def train_kwargs(self, trl_overrides: dict | None = None) -> dict:
        """``trl_overrides`` and ``callbacks`` for train_policy (``trl_overrides``: what the
        caller already overrides, e.g. a distributed strategy's fields)."""
        overrides = dict(trl_overrides or {})
        if self.tracker is None:
            return {"trl_overrides": overrides} if overrides else {}
        return {"trl_overrides": {**overrides, **self.tracker.trl_overrides()},
                "callbacks": self.tracker.callbacks()}

    def finish(self, row: dict, model: Any, tokenizer: Any) -> dict:
        """Keep the policy (``row["policy_path"]`` when kept) and close the tracking run."""
        if self.outputs is None or not self.main_process:
            return row
        from harness.keep import keep_policy

        kept = keep_policy(model, tokenizer, row, self.outputs["save"]["policies"],
                           Path(self.outputs["results"]))
        if kept is not None:
            row["policy_path"] = str(kept)
        if self.tracker is not None:
            self.tracker.finish(row)
        return row
