"""The prepared-study manifest: where a study's shared, content-hashed artifacts live.

``harness.prepare`` builds, once per study and cached by content hash, the train pairs and eval
prompts (parquet, :mod:`harness.schema` columns), the SFT policy folder (model + tokenizer), the
reference log-probs of every train pair under the SFT model, and the SFT baseline on the eval
prompts. It then writes ``<artifacts_dir>/studies/<study>/prepared.json`` pointing at them;
trials and ``python -m harness.evaluate --artifacts <that folder>`` read only this manifest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.io import write_json_atomic

MANIFEST = "prepared.json"


@dataclass
class PreparedStudy:
    study: str
    artifacts_dir: str
    train_pairs: str  # parquet: pair_id, prompt, chosen, rejected
    heldout_pairs: str  # parquet, same columns: pairs kept out of training for reward accuracy
    eval_prompts: str  # parquet: prompt_id, prompt, chosen[, rejected]
    policy: str  # SFT model folder (weights + tokenizer), loadable with from_pretrained
    judge: dict  # the study's judge mapping ({name: ..., options...})
    generation: dict  # the study's generation settings
    reference_logps: str | None = None  # reference cache file (DPO / LN-DPO)
    baseline: str | None = None  # baseline.parquet: the SFT model's rows in the samples schema
    hashes: dict = field(default_factory=dict)  # content hash of each artifact

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / MANIFEST
        write_json_atomic(path, asdict(self))
        return path

    @classmethod
    def load(cls, folder_or_file: str | Path) -> "PreparedStudy":
        p = Path(folder_or_file)
        if p.is_dir():
            p = p / MANIFEST
        if not p.exists():
            raise FileNotFoundError(
                f"no prepared study at {p}: run `python -m harness.sweep STUDY.yaml --prepare-only` "
                "(or a full sweep) first"
            )
        return cls(**json.loads(p.read_text()))


def study_folder(artifacts_dir: str | Path, study: str) -> Path:
    return Path(artifacts_dir) / "studies" / study
