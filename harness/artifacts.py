"""The prepared-study manifest: where a study's shared, content-hashed artifacts live.

``harness.prepare`` builds, once per study and cached by content hash, the train pairs and eval
prompts (parquet, :mod:`harness.schema` columns), the SFT policy folder (model + tokenizer), the
reference log-probs of every train pair under the SFT model, and the SFT baseline on the eval
prompts, and describes them in a :class:`PreparedStudy`.

The manifest is keyed by content, not by the study's name: it is saved as
``<artifacts_dir>/studies/<study>/prepared-<key>.json``, ``key`` being the digest of everything
in it (the study's result-settings hash, the data, policy and baseline hashes, every path). A
sweep hands its trials the manifest's *contents*, so two sweeps of one study name with
different data never read each other's artifacts, even while both run. ``prepared.json`` beside
it is a copy of the latest one, for ``python -m harness.evaluate --artifacts <that folder>``; a
sweep also keeps the manifest it ran with in ``results/<study>/prepared.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.io import hash_json, read_text, write_json_atomic

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
    trust_remote_code: bool = False  # policy.trust_remote_code: passed to every policy load
    study_hash: str | None = None  # the result-settings hash of the study it was prepared for

    @property
    def key(self) -> str:
        """Digest of the whole manifest: equal only for the same artifacts of the same study."""
        return hash_json(asdict(self))

    def save(self, folder: str | Path) -> Path:
        """Write ``prepared-<key>.json`` (returned) and the ``prepared.json`` copy."""
        folder = Path(folder)
        path = folder / f"prepared-{self.key}.json"
        write_json_atomic(path, asdict(self))
        write_json_atomic(folder / MANIFEST, asdict(self))
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
        return cls(**json.loads(read_text(p)))

    @classmethod
    def from_any(cls, obj) -> "PreparedStudy":
        """A manifest, its contents (a mapping, as trials receive it) or a path to one."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, dict):
            return cls(**obj)
        return cls.load(obj)

    def to_dict(self) -> dict:
        return asdict(self)


def study_folder(artifacts_dir: str | Path, study: str) -> Path:
    return Path(artifacts_dir) / "studies" / study
