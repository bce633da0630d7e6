"""Keeping the trained policies worth keeping (``save.policies``).

A trial's policy lives in memory and is dropped when the trial ends, unless the study keeps it:

- ``none`` (default): nothing is saved;
- ``all``: every ``ok`` trial's policy is saved;
- ``{best: K}``: per method, the K best trials by ``mean_score``, decided as trials finish.
  A finishing trial whose score enters the current top K is saved, then the policy that fell out
  of the top K is deleted; one that does not enter is never written. Ties go to the smaller
  trial id. Concurrent trials (several Ray workers, several nodes on shared storage) decide
  under one file lock per method (``filelock``), and a policy is written to a temporary folder
  and renamed into place, so a reader never sees half a policy and two trials cannot both
  evict the same one.

Layout: ``<results>/<study>/policies/<method>/<trial_id>/`` holds the weights in safetensors
(``model.safetensors``, or with LoRA only ``adapter_model.safetensors``), the config, the
tokenizer and ``kept.json`` (trial id, method, mean_score), which is what marks the folder as a
kept policy. trials.parquet's ``policy_path`` column is read from these folders when the
tables are consolidated (:func:`policy_paths`), so a policy evicted after its trial's row was
written is never named.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

POLICIES_DIR = "policies"
MARKER = "kept.json"
LOCK = ".lock"


def policies_dir(results: str | Path) -> Path:
    return Path(results) / POLICIES_DIR


def keep_count(policies: Any) -> int | None:
    """How many policies per method the setting keeps: 0 (none), None (all) or K."""
    if policies == "none":
        return 0
    if policies == "all":
        return None
    return int(policies.best if hasattr(policies, "best") else policies["best"])


def _kept(method_dir: Path) -> list[dict]:
    """The kept policies of one method: ``{"trial_id", "mean_score", "path"}``."""
    out = []
    if not method_dir.exists():
        return out
    for marker in method_dir.glob(f"*/{MARKER}"):
        if marker.parent.name.startswith("."):
            continue
        info = json.loads(marker.read_text())
        out.append({**info, "path": marker.parent})
    return out


def _rank(entries: list[dict]) -> list[dict]:
    return sorted(entries, key=lambda e: (-e["mean_score"], e["trial_id"]))


def _would_enter(kept: list[dict], entry: dict, k: int) -> bool:
    others = [e for e in kept if e["trial_id"] != entry["trial_id"]]
    return entry in _rank(others + [entry])[:k]


def _save(model, tokenizer, folder: Path, info: dict) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Writing model shards" bar per kept policy
    folder.mkdir(parents=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(folder))
    (folder / MARKER).write_text(json.dumps(info))  # last: marks the folder complete


def keep_policy(model, tokenizer, row: dict, policies: Any, results: str | Path) -> Path | None:
    """Save the trial's policy if ``policies`` (the ``save.policies`` setting) keeps it; return
    its folder, or None. ``row`` is the trial's results row (``trial_id``, ``method``,
    ``status``, ``mean_score``)."""
    k = keep_count(policies)
    score = row.get("mean_score")
    if k == 0 or model is None or row.get("status") != "ok" or score is None \
            or not math.isfinite(float(score)):
        return None
    from filelock import FileLock

    method_dir = policies_dir(results) / row["method"]
    method_dir.mkdir(parents=True, exist_ok=True)
    entry = {"trial_id": row["trial_id"], "method": row["method"], "mean_score": float(score)}
    if k is not None and not _would_enter(_kept(method_dir), entry, k):
        return None  # the kept set only gets better: a trial that cannot enter now never will
    final = method_dir / row["trial_id"]
    tmp = method_dir / f".tmp-{row['trial_id']}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    _save(model, tokenizer, tmp, entry)  # outside the lock: saving a large model takes a while
    with FileLock(str(method_dir / LOCK)):
        kept = _kept(method_dir)
        if k is not None and not _would_enter(kept, entry, k):
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        if final.exists():  # the same trial re-run (e.g. after a crash before its row)
            shutil.rmtree(final)
        os.replace(tmp, final)
        if k is not None:
            ranking = _rank([e for e in kept if e["trial_id"] != entry["trial_id"]] + [entry])
            for evicted in ranking[k:]:
                shutil.rmtree(evicted.get("path", method_dir / evicted["trial_id"]),
                              ignore_errors=True)
    return final


def policy_paths(results: str | Path) -> dict[str, str]:
    """``trial_id -> folder`` of every kept policy of the study (for trials.parquet)."""
    root = policies_dir(results)
    if not root.exists():
        return {}
    return {e["trial_id"]: str(e["path"]) for d in sorted(root.iterdir()) if d.is_dir()
            for e in _kept(d)}
